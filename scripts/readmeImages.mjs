// The README as the VSIX carries it: each image under media/readme/ linked relatively
// (`![alt](media/readme/x.jpg)`) becomes a data URI, the only local image an installed extension's
// page shows (scripts/package.mjs says why). Any other relative image is refused by name: it
// would show on GitHub and be broken in VS Code.
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const TYPES = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg' };

export function inlineReadmeImages(markdown, root) {
  return markdown.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (whole, alt, link) => {
    if (/^(https:|data:)/.test(link)) return whole;
    const type = TYPES[extname(link).toLowerCase()];
    if (!link.startsWith('media/readme/') || link.includes('..') || !type) {
      throw new Error(`README.md: the image ${link} is neither https nor a .png/.jpg under media/readme/, so it would be broken on the extension's page`);
    }
    return `![${alt}](data:${type};base64,${readFileSync(join(root, link)).toString('base64')})`;
  });
}
