import { describe, expect, it } from 'vitest';
import { createEnvironment } from './environment.js';

const settle = () => new Promise<void>((resolve) => globalThis.setTimeout(resolve, 20));

describe('createEnvironment timers', () => {
  it('runs zero-delay and delayed timers, and cancels either kind', async () => {
    const env = createEnvironment();
    const ran: string[] = [];
    env.setTimeout(() => ran.push('zero'), 0);
    env.setTimeout(() => ran.push('five'), 5);
    const cancelledZero = env.setTimeout(() => ran.push('cancelled zero'), 0);
    const cancelledLater = env.setTimeout(() => ran.push('cancelled later'), 5);
    env.clearTimeout(cancelledZero);
    env.clearTimeout(cancelledLater);
    await settle();
    expect(ran).toEqual(['zero', 'five']);
  });

  it('runs a zero-delay timer after the current task, not inside it', async () => {
    const env = createEnvironment();
    let ran = false;
    env.setTimeout(() => {
      ran = true;
    }, 0);
    await Promise.resolve();
    expect(ran).toBe(false);
    await settle();
    expect(ran).toBe(true);
  });

  it('uses the overrides it is given', () => {
    const calls: number[] = [];
    const env = createEnvironment({
      setTimeout: (_callback, ms) => {
        calls.push(ms);
        return 'handle';
      },
    });
    expect(env.setTimeout(() => {}, 0)).toBe('handle');
    expect(calls).toEqual([0]);
  });
});
