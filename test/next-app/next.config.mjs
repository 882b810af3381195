// @ts-check
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The syncline packages live in the repository (packages/*, linked from its node_modules),
// outside this app's folder: the bundler's root is the repository.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** @type {import('next').NextConfig} */
const config = {
  turbopack: { root },
  outputFileTracingRoot: root,
  // Strict mode renders twice in development; the production build the test serves does not.
  reactStrictMode: true,
};

export default config;
