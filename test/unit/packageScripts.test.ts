import * as fs from 'fs';
import * as path from 'path';

// npm runs "preX" before every "npm run X": a script named like another's hook runs twice as much
// work without anyone asking (a "build" script would run "prebuild", prebuildify's full compile).
describe('package.json scripts', () => {
  const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).scripts;

  it('have no accidental pre-hooks: only pretest, which compiles before the tests', () => {
    const hooks = Object.keys(scripts).filter((name) => name.startsWith('pre') && scripts[name.slice(3)] !== undefined);
    expect(hooks).toEqual(['pretest']);
    expect(scripts.prebuild).toMatch(/^prebuildify /);
  });

  it('compile from source before tests and benchmarks', () => {
    expect(scripts.pretest).toBe('npm run compile');
    for (const [name, command] of Object.entries(scripts)) {
      if (name.startsWith('bench:') || name === 'parity:full') expect(command).toMatch(/^npm run compile && /);
    }
  });
});
