// The end-to-end matrix row of PostgreSQL 17 (src/test-support/major-matrix.ts).
import { majorMatrix } from '../test-support/major-matrix.js';

majorMatrix(17);
