import * as fs from 'fs';
import * as path from 'path';

import { readPackageData } from '../../../src/text/packageData';
import { isLearnedRule } from '../../../src/text/posRuleEngine';
import { expectError } from '../../helpers/errors';

describe('package data files', () => {
  it('are listed in package.json files, so they ship', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
    expect(pkg.files).toContain('data/');
  });

  it('read the HTML5 table and the learned rules with their documented shapes', () => {
    const html = readPackageData<{ entities: Record<string, string> }>('text/html-entities.json', () => null);
    expect(html.entities['amp;']).toBe('&');
    expect(Object.keys(html.entities)).toHaveLength(2231);
    const pos = readPackageData<{ rules: unknown[] }>('text/pos-learned-rules.json', () => null);
    expect(pos.rules.length).toBeGreaterThan(100);
    expect(pos.rules.every(isLearnedRule)).toBe(true);
  });

  it('name the file when it is missing or its content is wrong', () => {
    expectError(() => readPackageData('text/missing.json', () => null), 'POSAPL_IO', 'missing');
    expectError(() => readPackageData('text/html-entities.json', () => 'Expected an array for rules'), 'POSAPL_IO', 'rules');
  });

  it('accept only well-formed rules', () => {
    expect(isLearnedRule(['noun', 'w', 'pier'])).toBe(true);
    expect(isLearnedRule(['noun', 't<t>t', 'a', 'b', 'c'])).toBe(true);
    expect(isLearnedRule(['noun', 'w', 'pier', 'extra'])).toBe(false);
    expect(isLearnedRule(['noun', 'w>w', 'green'])).toBe(false);
    expect(isLearnedRule(['noun', 'constructor', 'x'])).toBe(false);
    expect(isLearnedRule(['noun', 'w', 3])).toBe(false);
    expect(isLearnedRule('noun')).toBe(false);
  });
});
