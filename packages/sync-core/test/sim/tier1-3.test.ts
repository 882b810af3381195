import { tier1File } from './tier1.js';

tier1File(3, { pages: 2 });
