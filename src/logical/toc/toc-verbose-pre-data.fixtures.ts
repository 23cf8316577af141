/**
 * toc.fixtures.ts's TOC_VERBOSE, first part: the pre-data section of pg_restore --schema-only
 * --verbose (schemas, extension, type, function, tables, sequences, views, defaults).
 */
export const TOC_VERBOSE_PRE_DATA = `--
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


`;
