// The README the VSIX carries (scripts/readmeImages.mjs, used by npm run package): the
// screenshots under media/readme/ inlined as data URIs, since an installed extension's page
// does not load relative images; any other relative image is refused by name.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
// @ts-expect-error: a plain .mjs build script without types
import { inlineReadmeImages } from '../../scripts/readmeImages.mjs';

const root = join(__dirname, '..', '..');

test("inlineReadmeImages: the README's screenshots become data URIs with their bytes; https images stay", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/!\[[^\]]*\]\((media\/readme\/[^)]+)\)/g)].map((m) => m[1]);
  assert.ok(links.length >= 4, `the README shows a screenshot per lab: ${links.join(', ')}`);
  const inlined: string = inlineReadmeImages(readme, root);
  assert.ok(!/\]\(media\//.test(inlined), 'no relative image left');
  for (const link of links) {
    const data = readFileSync(join(root, link)).toString('base64');
    assert.ok(inlined.includes(`(data:image/png;base64,${data})`), link);
  }
  assert.equal(inlineReadmeImages('![x](https://example.org/x.png)', root), '![x](https://example.org/x.png)');
});

test('inlineReadmeImages: a relative image elsewhere, or not a png/jpg, is refused by name', () => {
  assert.throws(() => inlineReadmeImages('![x](images/x.png)', root), /images\/x\.png .* broken on the extension's page/);
  assert.throws(() => inlineReadmeImages('![x](media/readme/../../package.json)', root), /media\/readme\/\.\.\/\.\.\/package\.json/);
  assert.throws(() => inlineReadmeImages('![x](media/readme/x.svg)', root), /x\.svg/);
});
