/**
 * Real output captured from PostgreSQL 15.18 (test data for toc.unit.test.ts): a database with
 * schemas "sales" and "Weird Schema", a serial and an identity column, an index, PK/FK/unique
 * constraints, a trigger, a policy, comments, a grant, a view, a materialized view, an enum,
 * an extension, and a table named 'tab, with ; odd'.
 * Roles: postgres, app_owner, reader.
 */
import { TOC_VERBOSE_POST_DATA } from './toc-verbose-post-data.fixtures.js';
import { TOC_VERBOSE_PRE_DATA } from './toc-verbose-pre-data.fixtures.js';

/** pg_restore -l toc.dump */
export const TOC_LIST = `;
; Archive created at 2026-11-24 06:57:36 UTC
;     dbname: toc
;     TOC Entries: 42
;     Compression: -1
;     Dump Version: 1.14-0
;     Format: CUSTOM
;     Integer: 4 bytes
;     Offset: 8 bytes
;     Dumped from database version: 15.18 (Debian 15.18-0+deb12u1)
;     Dumped by pg_dump version: 15.18 (Debian 15.18-0+deb12u1)
;
;
; Selected TOC Entries:
;
8; 2615 16388 SCHEMA - Weird Schema postgres
7; 2615 16387 SCHEMA - sales app_owner
2; 3079 16439 EXTENSION - pgcrypto 
3439; 0 0 COMMENT - EXTENSION pgcrypto 
901; 1247 16434 TYPE public mood postgres
227; 1255 16431 FUNCTION sales touch() postgres
222; 1259 16417 TABLE Weird Schema Mixed Table postgres
221; 1259 16412 TABLE public plain postgres
223; 1259 16422 SEQUENCE public standalone_seq postgres
226; 1259 16477 TABLE public tab, with ; odd postgres
220; 1259 16402 TABLE sales lines postgres
219; 1259 16401 SEQUENCE sales lines_id_seq postgres
218; 1259 16390 TABLE sales orders app_owner
3440; 0 0 COMMENT sales TABLE orders app_owner
3441; 0 0 COMMENT sales COLUMN orders.customer app_owner
3442; 0 0 ACL sales TABLE orders app_owner
225; 1259 16427 MATERIALIZED VIEW sales mv postgres
224; 1259 16423 VIEW sales order_totals postgres
217; 1259 16389 SEQUENCE sales orders_id_seq app_owner
3443; 0 0 SEQUENCE OWNED BY sales orders_id_seq app_owner
3266; 2604 16393 DEFAULT sales orders id app_owner
3429; 0 16417 TABLE DATA Weird Schema Mixed Table postgres
3428; 0 16412 TABLE DATA public plain postgres
3432; 0 16477 TABLE DATA public tab, with ; odd postgres
3427; 0 16402 TABLE DATA sales lines postgres
3425; 0 16390 TABLE DATA sales orders app_owner
3444; 0 0 SEQUENCE SET public standalone_seq postgres
3445; 0 0 SEQUENCE SET sales lines_id_seq postgres
3446; 0 0 SEQUENCE SET sales orders_id_seq app_owner
3275; 2606 16421 CONSTRAINT Weird Schema Mixed Table Mixed Table_Col A_key postgres
3273; 2606 16406 CONSTRAINT sales lines lines_pkey postgres
3271; 2606 16399 CONSTRAINT sales orders orders_pkey app_owner
3269; 1259 16400 INDEX sales orders_customer app_owner
3277; 2620 16432 TRIGGER sales orders orders_touch app_owner
3276; 2606 16407 FK CONSTRAINT sales lines lines_order_id_fkey postgres
3422; 0 16390 ROW SECURITY sales orders app_owner
3423; 3256 16476 POLICY sales orders p app_owner
3431; 0 16427 MATERIALIZED VIEW DATA sales mv postgres
`;

/** pg_restore --schema-only --verbose -f - toc.dump (in two files: pre-data, post-data). */
export const TOC_VERBOSE = TOC_VERBOSE_PRE_DATA + TOC_VERBOSE_POST_DATA;
