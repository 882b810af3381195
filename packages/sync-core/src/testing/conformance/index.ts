export { ConformanceFailure } from './harness.js';
export {
  type ConformanceTestApi,
  describeTransportConformance,
  transportConformanceCases,
} from './runner.js';
export type { ConformanceCapabilities, ConformanceCase, ConformanceSubject } from './types.js';
