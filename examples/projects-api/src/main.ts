/** `npm start` in this folder: the API on http://127.0.0.1:8790 (PORT, DATA_DIR to change). */
import { startProjectsApi } from './server.js';

const api = await startProjectsApi({
  port: Number(process.env.PORT ?? 8790),
  ...(process.env.DATA_DIR ? { dataDir: process.env.DATA_DIR } : {}),
});
console.log(`projects API on ${api.url} (POST /api/sign-in, GET|PUT|DELETE /api/projects/:id)`);
