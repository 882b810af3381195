import { tier1File } from './tier1.js';

tier1File(2, { pages: 5 });
