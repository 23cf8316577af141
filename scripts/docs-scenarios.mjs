#!/usr/bin/env node
// Writes docs/scenarios.md from the scenarios' own data (src/scenarios/doc.ts, built into dist/).
// Usage: npm run docs:scenarios   (builds first). src/scenarios/doc.unit.test.ts fails when they differ.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { renderScenariosDoc } = await import('../dist/scenarios/doc.js');
const out = fileURLToPath(new URL('../docs/scenarios.md', import.meta.url));
writeFileSync(out, renderScenariosDoc());
console.log(`wrote ${out}`);
