/**
 * Real output captured from PostgreSQL 15.18 (test data for toc.unit.test.ts): a database with
 * schemas "sales" and "Weird Schema", a serial and an identity column, an index, PK/FK/unique
 * constraints, a trigger, a policy, comments, a grant, a view, a materialized view, an enum,
 * an extension, and a table named 'tab, with ; odd'.
 * Roles: postgres, app_owner, reader.
 */

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

/** pg_restore --schema-only --verbose -f - toc.dump */
export const TOC_VERBOSE = `--
-- PostgreSQL database dump
--

\\restrict qFOey2dvqdSwuyY5yLrEaPHRpMhRr0CykXytAhOrm2eMDDchzmRTdQ2l3QxbGCf

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

-- Started on 2026-11-24 06:57:36 UTC

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- TOC entry 8 (class 2615 OID 16388)
-- Name: Weird Schema; Type: SCHEMA; Schema: -; Owner: postgres
-- Data Pos: 0
--

CREATE SCHEMA "Weird Schema";


ALTER SCHEMA "Weird Schema" OWNER TO postgres;

--
-- TOC entry 7 (class 2615 OID 16387)
-- Name: sales; Type: SCHEMA; Schema: -; Owner: app_owner
-- Data Pos: 0
--

CREATE SCHEMA sales;


ALTER SCHEMA sales OWNER TO app_owner;

--
-- TOC entry 2 (class 3079 OID 16439)
-- Name: pgcrypto; Type: EXTENSION; Schema: -; Owner: -
-- Data Pos: 0
--

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;


--
-- TOC entry 3439 (class 0 OID 0)
-- Dependencies: 2
-- Name: EXTENSION pgcrypto; Type: COMMENT; Schema: -; Owner: 
-- Data Pos: 0
--

COMMENT ON EXTENSION pgcrypto IS 'cryptographic functions';


--
-- TOC entry 901 (class 1247 OID 16434)
-- Name: mood; Type: TYPE; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE TYPE public.mood AS ENUM (
    'ok',
    'bad'
);


ALTER TYPE public.mood OWNER TO postgres;

--
-- TOC entry 227 (class 1255 OID 16431)
-- Dependencies: 7
-- Name: touch(); Type: FUNCTION; Schema: sales; Owner: postgres
-- Data Pos: 0
--

CREATE FUNCTION sales.touch() RETURNS trigger
    LANGUAGE plpgsql
    AS $$begin new.created := now(); return new; end$$;


ALTER FUNCTION sales.touch() OWNER TO postgres;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- TOC entry 222 (class 1259 OID 16417)
-- Dependencies: 8
-- Name: Mixed Table; Type: TABLE; Schema: Weird Schema; Owner: postgres
-- Data Pos: 0
--

CREATE TABLE "Weird Schema"."Mixed Table" (
    "Col A" integer
);


ALTER TABLE "Weird Schema"."Mixed Table" OWNER TO postgres;

--
-- TOC entry 221 (class 1259 OID 16412)
-- Name: plain; Type: TABLE; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE TABLE public.plain (
    a integer,
    b text
);


ALTER TABLE public.plain OWNER TO postgres;

--
-- TOC entry 223 (class 1259 OID 16422)
-- Name: standalone_seq; Type: SEQUENCE; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE SEQUENCE public.standalone_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.standalone_seq OWNER TO postgres;

--
-- TOC entry 226 (class 1259 OID 16477)
-- Name: tab, with ; odd; Type: TABLE; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE TABLE public."tab, with ; odd" (
    x integer
);


ALTER TABLE public."tab, with ; odd" OWNER TO postgres;

--
-- TOC entry 220 (class 1259 OID 16402)
-- Dependencies: 7
-- Name: lines; Type: TABLE; Schema: sales; Owner: postgres
-- Data Pos: 0
--

CREATE TABLE sales.lines (
    id bigint NOT NULL,
    order_id integer,
    qty integer
);


ALTER TABLE sales.lines OWNER TO postgres;

--
-- TOC entry 219 (class 1259 OID 16401)
-- Dependencies: 220 7
-- Name: lines_id_seq; Type: SEQUENCE; Schema: sales; Owner: postgres
-- Data Pos: 0
--

ALTER TABLE sales.lines ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME sales.lines_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- TOC entry 218 (class 1259 OID 16390)
-- Dependencies: 7
-- Name: orders; Type: TABLE; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

CREATE TABLE sales.orders (
    id integer NOT NULL,
    customer text NOT NULL,
    amount numeric(10,2),
    created timestamp with time zone DEFAULT now(),
    CONSTRAINT orders_amount_check CHECK ((amount >= (0)::numeric))
);


ALTER TABLE sales.orders OWNER TO app_owner;

--
-- TOC entry 3440 (class 0 OID 0)
-- Dependencies: 218
-- Name: TABLE orders; Type: COMMENT; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

COMMENT ON TABLE sales.orders IS 'orders, with a comment';


--
-- TOC entry 3441 (class 0 OID 0)
-- Dependencies: 218
-- Name: COLUMN orders.customer; Type: COMMENT; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

COMMENT ON COLUMN sales.orders.customer IS 'who';


--
-- TOC entry 225 (class 1259 OID 16427)
-- Dependencies: 218 7
-- Name: mv; Type: MATERIALIZED VIEW; Schema: sales; Owner: postgres
-- Data Pos: 0
--

CREATE MATERIALIZED VIEW sales.mv AS
 SELECT count(*) AS count
   FROM sales.orders
  WITH NO DATA;


ALTER TABLE sales.mv OWNER TO postgres;

--
-- TOC entry 224 (class 1259 OID 16423)
-- Dependencies: 218 218 7
-- Name: order_totals; Type: VIEW; Schema: sales; Owner: postgres
-- Data Pos: 0
--

CREATE VIEW sales.order_totals AS
 SELECT orders.customer,
    sum(orders.amount) AS sum
   FROM sales.orders
  GROUP BY orders.customer;


ALTER TABLE sales.order_totals OWNER TO postgres;

--
-- TOC entry 217 (class 1259 OID 16389)
-- Dependencies: 7 218
-- Name: orders_id_seq; Type: SEQUENCE; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

CREATE SEQUENCE sales.orders_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE sales.orders_id_seq OWNER TO app_owner;

--
-- TOC entry 3443 (class 0 OID 0)
-- Dependencies: 217
-- Name: orders_id_seq; Type: SEQUENCE OWNED BY; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

ALTER SEQUENCE sales.orders_id_seq OWNED BY sales.orders.id;


--
-- TOC entry 3266 (class 2604 OID 16393)
-- Dependencies: 217 218 218
-- Name: orders id; Type: DEFAULT; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

ALTER TABLE ONLY sales.orders ALTER COLUMN id SET DEFAULT nextval('sales.orders_id_seq'::regclass);


--
-- TOC entry 3275 (class 2606 OID 16421)
-- Dependencies: 222
-- Name: Mixed Table Mixed Table_Col A_key; Type: CONSTRAINT; Schema: Weird Schema; Owner: postgres
-- Data Pos: 0
--

ALTER TABLE ONLY "Weird Schema"."Mixed Table"
    ADD CONSTRAINT "Mixed Table_Col A_key" UNIQUE ("Col A");


--
-- TOC entry 3273 (class 2606 OID 16406)
-- Dependencies: 220
-- Name: lines lines_pkey; Type: CONSTRAINT; Schema: sales; Owner: postgres
-- Data Pos: 0
--

ALTER TABLE ONLY sales.lines
    ADD CONSTRAINT lines_pkey PRIMARY KEY (id);


--
-- TOC entry 3271 (class 2606 OID 16399)
-- Dependencies: 218
-- Name: orders orders_pkey; Type: CONSTRAINT; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

ALTER TABLE ONLY sales.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);


--
-- TOC entry 3269 (class 1259 OID 16400)
-- Dependencies: 218
-- Name: orders_customer; Type: INDEX; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

CREATE INDEX orders_customer ON sales.orders USING btree (customer);


--
-- TOC entry 3277 (class 2620 OID 16432)
-- Dependencies: 227 218
-- Name: orders orders_touch; Type: TRIGGER; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

CREATE TRIGGER orders_touch BEFORE UPDATE ON sales.orders FOR EACH ROW EXECUTE FUNCTION sales.touch();


--
-- TOC entry 3276 (class 2606 OID 16407)
-- Dependencies: 220 218 3271
-- Name: lines lines_order_id_fkey; Type: FK CONSTRAINT; Schema: sales; Owner: postgres
-- Data Pos: 0
--

ALTER TABLE ONLY sales.lines
    ADD CONSTRAINT lines_order_id_fkey FOREIGN KEY (order_id) REFERENCES sales.orders(id);


--
-- TOC entry 3422 (class 0 OID 16390)
-- Dependencies: 218
-- Name: orders; Type: ROW SECURITY; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

ALTER TABLE sales.orders ENABLE ROW LEVEL SECURITY;

--
-- TOC entry 3423 (class 3256 OID 16476)
-- Dependencies: 218
-- Name: orders p; Type: POLICY; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

CREATE POLICY p ON sales.orders USING (true);


--
-- TOC entry 3442 (class 0 OID 0)
-- Dependencies: 218
-- Name: TABLE orders; Type: ACL; Schema: sales; Owner: app_owner
-- Data Pos: 0
--

GRANT SELECT ON TABLE sales.orders TO reader;


--
-- TOC entry 3431 (class 0 OID 16427)
-- Dependencies: 225 3434
-- Name: mv; Type: MATERIALIZED VIEW DATA; Schema: sales; Owner: postgres
-- Data Pos: 0
--

REFRESH MATERIALIZED VIEW sales.mv;


-- Completed on 2026-11-24 06:59:18 UTC

--
-- PostgreSQL database dump complete
--

\\unrestrict qFOey2dvqdSwuyY5yLrEaPHRpMhRr0CykXytAhOrm2eMDDchzmRTdQ2l3QxbGCf

`;
