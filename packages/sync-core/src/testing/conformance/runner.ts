import { CaseHarness } from './harness.js';
import { PULL_AND_ERROR_RULES } from './pull-cases.js';
import { PUSH_RULES, type RuleDefinition } from './push-cases.js';
import type { ConformanceCase, ConformanceSubject } from './types.js';

/** Every rule of the transport contract, in the order the suite runs them. */
const RULES: readonly RuleDefinition[] = [...PUSH_RULES, ...PULL_AND_ERROR_RULES];

/**
 * The transport conformance suite as a list of cases, one per rule of the `SyncTransport`
 * contract (push, pull, idempotency, revision checks, tombstones, paging, isolation, auth and
 * rate-limit errors). Run each case's `run()` with any test runner; a broken rule rejects with a
 * {@link ConformanceFailure} whose message starts with the rule's id and says what the transport
 * did instead. {@link describeTransportConformance} registers them with vitest or node:test.
 *
 * @param subject - the transport under test
 */
export function transportConformanceCases(subject: ConformanceSubject): ConformanceCase[] {
  const runId = randomRunId();
  const capabilities = { patch: true, transactions: true, ...subject.capabilities };
  return RULES.map((rule) => ({
    id: rule.id,
    title: rule.title,
    skipReason: skipReason(rule, subject, capabilities),
    run: () => rule.run(new CaseHarness(rule.id, subject, runId)),
  }));
}

/** The part of a test runner's API that {@link describeTransportConformance} uses. */
export interface ConformanceTestApi {
  /** `describe` of vitest, jest or `node:test`. */
  describe(name: string, body: () => void): unknown;
  /** `it` (or `test`) of the same runner; `options.skip` skips with a reason where supported. */
  it(name: string, body: () => Promise<void>): unknown;
  /** `afterAll` (vitest, jest) or `after` (`node:test`), to call the subject's `close`. */
  afterAll?(body: () => Promise<void> | void): unknown;
}

/**
 * Registers the conformance suite with a test runner: one test per rule, named
 * `<rule id>: <rule>`. A case the subject cannot run (a missing capability or hook) becomes a
 * passing test whose name says `SKIPPED` and why, so it is never silently missing.
 *
 * @example
 * ```ts
 * import { describe, it, afterAll } from 'vitest';
 * import { describeTransportConformance } from '@syncline/sync-core/testing';
 *
 * describeTransportConformance({ describe, it, afterAll }, {
 *   name: 'my adapter',
 *   connect: (userId) => myTransport({ token: signIn(userId) }),
 *   connectUnauthorized: () => myTransport({ token: 'forged' }),
 * });
 * ```
 */
export function describeTransportConformance(
  api: ConformanceTestApi,
  subject: ConformanceSubject,
): void {
  api.describe(`transport conformance: ${subject.name}`, () => {
    for (const testCase of transportConformanceCases(subject)) {
      if (testCase.skipReason !== undefined) {
        api.it(`${testCase.id}: SKIPPED (${testCase.skipReason})`, async () => {});
      } else {
        api.it(`${testCase.id}: ${testCase.title}`, () => testCase.run());
      }
    }
    if (subject.close !== undefined && api.afterAll !== undefined) {
      api.afterAll(() => subject.close?.());
    }
  });
}

function skipReason(
  rule: RuleDefinition,
  subject: ConformanceSubject,
  capabilities: { patch: boolean; transactions: boolean },
): string | undefined {
  switch (rule.needs) {
    case 'patch':
      return capabilities.patch ? undefined : 'the subject declares capabilities.patch: false';
    case 'transactions':
      return capabilities.transactions
        ? undefined
        : 'the subject declares capabilities.transactions: false';
    case 'unauthorized':
      return subject.connectUnauthorized ? undefined : 'the subject has no connectUnauthorized';
    case 'rateLimited':
      return subject.connectRateLimited ? undefined : 'the subject has no connectRateLimited';
    default:
      return undefined;
  }
}

function randomRunId(): string {
  const bytes = new Uint8Array(4);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
