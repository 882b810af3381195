import { version } from 'react';
import { version as domVersion } from 'react-dom';
import { version as clientDomVersion } from 'react-dom/package.json';
import { expect, it } from 'vitest';

// vitest.config.ts runs this package's tests twice: project "all" with the root's React 19 and
// project "React 18" with test/react18's React 18 (the peer range is ^18 || ^19). This checks
// that each run loads the React its project names, and one React only (react-dom's own).
it('runs with the React its vitest project names', ({ task }) => {
  const expectedMajor = task.file.projectName === 'React 18' ? '18' : '19';
  expect(version.split('.')[0]).toBe(expectedMajor);
  expect(domVersion).toBe(version);
  expect(clientDomVersion).toBe(version);
});
