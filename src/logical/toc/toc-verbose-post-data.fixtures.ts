/**
 * toc.fixtures.ts's TOC_VERBOSE, second part: the post-data section of pg_restore --schema-only
 * --verbose (constraints, index, trigger, foreign key, row security, policy, grant, refresh).
 */
export const TOC_VERBOSE_POST_DATA = `--
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
