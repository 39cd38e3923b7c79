-- 0007_alert_scope_once: a regulator's scope is read once per statement, not once per alert row.
--
-- The read policies compared each row's jurisdiction with centinela_scope_jurisdictions(), which
-- parses the scope setting into a uuid[]. Written inline, the planner evaluates it again for every
-- row: about 25 µs each, so a plan that hashes every visible alert (chosen while the alert tables
-- have no statistics yet, after the first national rescore opened 77,700 of them) took 1.9 s, and
-- every alert on a regulator's live stream waited for it. As an uncorrelated scalar subquery the
-- scope becomes an InitPlan, evaluated once per statement (the same hashed plan: 65 ms), and an
-- index on jurisdiction_id can use the array. Same rows visible as before.

ALTER POLICY alerts_read ON alerts
    USING ((SELECT centinela_scope_role()) = 'system'
           OR ((SELECT centinela_scope_role()) = 'regulator'
               AND jurisdiction_id = ANY ((SELECT centinela_scope_jurisdictions())::uuid[])));

ALTER POLICY alerts_update ON alerts
    USING ((SELECT centinela_scope_role()) = 'system'
           OR ((SELECT centinela_scope_role()) = 'regulator'
               AND jurisdiction_id = ANY ((SELECT centinela_scope_jurisdictions())::uuid[])))
    WITH CHECK ((SELECT centinela_scope_role()) = 'system'
           OR ((SELECT centinela_scope_role()) = 'regulator'
               AND jurisdiction_id = ANY ((SELECT centinela_scope_jurisdictions())::uuid[])));

ALTER POLICY webhook_endpoints_access ON webhook_endpoints
    USING ((SELECT centinela_scope_role()) = 'system'
           OR ((SELECT centinela_scope_role()) = 'regulator'
               AND jurisdictions <@ (SELECT centinela_scope_jurisdictions())::uuid[]))
    WITH CHECK ((SELECT centinela_scope_role()) = 'regulator'
               AND jurisdictions <@ (SELECT centinela_scope_jurisdictions())::uuid[]);
