import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, serve } from '../src/node/serve.js';

describe('serve: request bodies', () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await serve(
      async (request) =>
        Response.json({ hasStream: request.body !== null, text: await request.text() }),
      { port: 0, onError: () => undefined },
    );
  });
  afterAll(() => running.close());

  it('a POST that declares an empty body reaches the handler without a body stream', async () => {
    const answer = await fetch(`${running.url}/x`, { method: 'POST' });
    expect(await answer.json()).toEqual({ hasStream: false, text: '' });
  });

  it('a POST with a body, or a chunked one, streams it', async () => {
    const sized = await fetch(`${running.url}/x`, { method: 'POST', body: '{"a":1}' });
    expect(await sized.json()).toEqual({ hasStream: true, text: '{"a":1}' });
    const chunked = await fetch(`${running.url}/x`, {
      method: 'POST',
      body: new Blob(['ab', 'c']).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(await chunked.json()).toEqual({ hasStream: true, text: 'abc' });
  });
});
