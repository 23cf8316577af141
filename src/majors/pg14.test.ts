// The end-to-end matrix row of PostgreSQL 14 (src/test-support/major-matrix.ts).
import { majorMatrix } from '../test-support/major-matrix.js';

majorMatrix(14);
