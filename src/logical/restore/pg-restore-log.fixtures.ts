/**
 * Real stderr of pg_restore 15.18 --verbose (test data for pg-restore-log.unit.test.ts): the
 * toc.dump archive of ../toc/toc.fixtures.ts restored a second time into the same database.
 */

/** Going on after errors (the default of pg_restore). */
export const RESTORE_CONTINUE = `pg_restore: connecting to database for restore
pg_restore: creating SCHEMA "Weird Schema"
pg_restore: while PROCESSING TOC:
pg_restore: from TOC entry 8; 2615 16388 SCHEMA Weird Schema postgres
pg_restore: error: could not execute query: ERROR:  schema "Weird Schema" already exists
Command was: CREATE SCHEMA "Weird Schema";


pg_restore: creating SCHEMA "sales"
pg_restore: from TOC entry 7; 2615 16387 SCHEMA sales app_owner
pg_restore: error: could not execute query: ERROR:  schema "sales" already exists
Command was: CREATE SCHEMA sales;


pg_restore: creating EXTENSION "pgcrypto"
pg_restore: creating COMMENT "EXTENSION pgcrypto"
pg_restore: creating TYPE "public.mood"
pg_restore: from TOC entry 901; 1247 16434 TYPE mood postgres
pg_restore: error: could not execute query: ERROR:  type "mood" already exists
Command was: CREATE TYPE public.mood AS ENUM (
    'ok',
    'bad'
);


pg_restore: creating FUNCTION "sales.touch()"
pg_restore: from TOC entry 227; 1255 16431 FUNCTION touch() postgres
pg_restore: error: could not execute query: ERROR:  function "touch" already exists with same argument types
Command was: CREATE FUNCTION sales.touch() RETURNS trigger
    LANGUAGE plpgsql
    AS $$begin new.created := now(); return new; end$$;


pg_restore: creating TABLE "Weird Schema.Mixed Table"
pg_restore: from TOC entry 222; 1259 16417 TABLE Mixed Table postgres
pg_restore: error: could not execute query: ERROR:  relation "Mixed Table" already exists
Command was: CREATE TABLE "Weird Schema"."Mixed Table" (
    "Col A" integer
);


pg_restore: creating TABLE "public.plain"
pg_restore: from TOC entry 221; 1259 16412 TABLE plain postgres
pg_restore: error: could not execute query: ERROR:  relation "plain" already exists
Command was: CREATE TABLE public.plain (
    a integer,
    b text
);


pg_restore: creating SEQUENCE "public.standalone_seq"
pg_restore: from TOC entry 223; 1259 16422 SEQUENCE standalone_seq postgres
pg_restore: error: could not execute query: ERROR:  relation "standalone_seq" already exists
Command was: CREATE SEQUENCE public.standalone_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


pg_restore: creating TABLE "public.tab, with ; odd"
pg_restore: from TOC entry 226; 1259 16477 TABLE tab, with ; odd postgres
pg_restore: error: could not execute query: ERROR:  relation "tab, with ; odd" already exists
Command was: CREATE TABLE public."tab, with ; odd" (
    x integer
);


pg_restore: creating TABLE "sales.lines"
pg_restore: from TOC entry 220; 1259 16402 TABLE lines postgres
pg_restore: error: could not execute query: ERROR:  relation "lines" already exists
Command was: CREATE TABLE sales.lines (
    id bigint NOT NULL,
    order_id integer,
    qty integer
);


pg_restore: creating SEQUENCE "sales.lines_id_seq"
pg_restore: from TOC entry 219; 1259 16401 SEQUENCE lines_id_seq postgres
pg_restore: error: could not execute query: ERROR:  relation "lines_id_seq" already exists
Command was: ALTER TABLE sales.lines ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME sales.lines_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


pg_restore: creating TABLE "sales.orders"
pg_restore: from TOC entry 218; 1259 16390 TABLE orders app_owner
pg_restore: error: could not execute query: ERROR:  relation "orders" already exists
Command was: CREATE TABLE sales.orders (
    id integer NOT NULL,
    customer text NOT NULL,
    amount numeric(10,2),
    created timestamp with time zone DEFAULT now(),
    CONSTRAINT orders_amount_check CHECK ((amount >= (0)::numeric))
);


pg_restore: creating COMMENT "sales.TABLE orders"
pg_restore: creating COMMENT "sales.COLUMN orders.customer"
pg_restore: creating MATERIALIZED VIEW "sales.mv"
pg_restore: from TOC entry 225; 1259 16427 MATERIALIZED VIEW mv postgres
pg_restore: error: could not execute query: ERROR:  relation "mv" already exists
Command was: CREATE MATERIALIZED VIEW sales.mv AS
 SELECT count(*) AS count
   FROM sales.orders
  WITH NO DATA;


pg_restore: creating VIEW "sales.order_totals"
pg_restore: from TOC entry 224; 1259 16423 VIEW order_totals postgres
pg_restore: error: could not execute query: ERROR:  relation "order_totals" already exists
Command was: CREATE VIEW sales.order_totals AS
 SELECT orders.customer,
    sum(orders.amount) AS sum
   FROM sales.orders
  GROUP BY orders.customer;


pg_restore: creating SEQUENCE "sales.orders_id_seq"
pg_restore: from TOC entry 217; 1259 16389 SEQUENCE orders_id_seq app_owner
pg_restore: error: could not execute query: ERROR:  relation "orders_id_seq" already exists
Command was: CREATE SEQUENCE sales.orders_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


pg_restore: creating SEQUENCE OWNED BY "sales.orders_id_seq"
pg_restore: creating DEFAULT "sales.orders id"
pg_restore: processing data for table "Weird Schema.Mixed Table"
pg_restore: processing data for table "public.plain"
pg_restore: processing data for table "public.tab, with ; odd"
pg_restore: processing data for table "sales.lines"
pg_restore: from TOC entry 3427; 0 16402 TABLE DATA lines postgres
pg_restore: error: COPY failed for table "lines": ERROR:  duplicate key value violates unique constraint "lines_pkey"
DETAIL:  Key (id)=(1) already exists.
CONTEXT:  COPY lines, line 1
pg_restore: processing data for table "sales.orders"
pg_restore: from TOC entry 3425; 0 16390 TABLE DATA orders app_owner
pg_restore: error: COPY failed for table "orders": ERROR:  duplicate key value violates unique constraint "orders_pkey"
DETAIL:  Key (id)=(1) already exists.
CONTEXT:  COPY orders, line 1
pg_restore: executing SEQUENCE SET standalone_seq
pg_restore: executing SEQUENCE SET lines_id_seq
pg_restore: executing SEQUENCE SET orders_id_seq
pg_restore: creating CONSTRAINT "Weird Schema.Mixed Table Mixed Table_Col A_key"
pg_restore: from TOC entry 3275; 2606 16421 CONSTRAINT Mixed Table Mixed Table_Col A_key postgres
pg_restore: error: could not execute query: ERROR:  relation "Mixed Table_Col A_key" already exists
Command was: ALTER TABLE ONLY "Weird Schema"."Mixed Table"
    ADD CONSTRAINT "Mixed Table_Col A_key" UNIQUE ("Col A");


pg_restore: creating CONSTRAINT "sales.lines lines_pkey"
pg_restore: from TOC entry 3273; 2606 16406 CONSTRAINT lines lines_pkey postgres
pg_restore: error: could not execute query: ERROR:  multiple primary keys for table "lines" are not allowed
Command was: ALTER TABLE ONLY sales.lines
    ADD CONSTRAINT lines_pkey PRIMARY KEY (id);


pg_restore: creating CONSTRAINT "sales.orders orders_pkey"
pg_restore: from TOC entry 3271; 2606 16399 CONSTRAINT orders orders_pkey app_owner
pg_restore: error: could not execute query: ERROR:  multiple primary keys for table "orders" are not allowed
Command was: ALTER TABLE ONLY sales.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);


pg_restore: creating INDEX "sales.orders_customer"
pg_restore: from TOC entry 3269; 1259 16400 INDEX orders_customer app_owner
pg_restore: error: could not execute query: ERROR:  relation "orders_customer" already exists
Command was: CREATE INDEX orders_customer ON sales.orders USING btree (customer);


pg_restore: creating TRIGGER "sales.orders orders_touch"
pg_restore: from TOC entry 3277; 2620 16432 TRIGGER orders orders_touch app_owner
pg_restore: error: could not execute query: ERROR:  trigger "orders_touch" for relation "orders" already exists
Command was: CREATE TRIGGER orders_touch BEFORE UPDATE ON sales.orders FOR EACH ROW EXECUTE FUNCTION sales.touch();


pg_restore: creating FK CONSTRAINT "sales.lines lines_order_id_fkey"
pg_restore: from TOC entry 3276; 2606 16407 FK CONSTRAINT lines lines_order_id_fkey postgres
pg_restore: error: could not execute query: ERROR:  constraint "lines_order_id_fkey" for relation "lines" already exists
Command was: ALTER TABLE ONLY sales.lines
    ADD CONSTRAINT lines_order_id_fkey FOREIGN KEY (order_id) REFERENCES sales.orders(id);


pg_restore: creating ROW SECURITY "sales.orders"
pg_restore: creating POLICY "sales.orders p"
pg_restore: from TOC entry 3423; 3256 16476 POLICY orders p app_owner
pg_restore: error: could not execute query: ERROR:  policy "p" for table "orders" already exists
Command was: CREATE POLICY p ON sales.orders USING (true);


pg_restore: creating ACL "sales.TABLE orders"
pg_restore: creating MATERIALIZED VIEW DATA "sales.mv"
pg_restore: warning: errors ignored on restore: 23
`;

/** --exit-on-error. */
export const RESTORE_EXIT = `pg_restore: connecting to database for restore
pg_restore: creating SCHEMA "Weird Schema"
pg_restore: while PROCESSING TOC:
pg_restore: from TOC entry 8; 2615 16388 SCHEMA Weird Schema postgres
pg_restore: error: could not execute query: ERROR:  schema "Weird Schema" already exists
Command was: CREATE SCHEMA "Weird Schema";


`;

/** Into a database that does not exist. */
export const RESTORE_NO_DATABASE = `pg_restore: connecting to database for restore
pg_restore: error: connection to server on socket "/tmp/h6dev/.s.PGSQL.55460" failed: FATAL:  database "nodb" does not exist
`;
