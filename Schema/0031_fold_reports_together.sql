-- 0031_fold_reports_together: reports filed together (decision 44) are folded into report_current
-- together, in one statement, rather than each by its own at-commit trigger (0029): one plan and
-- one pass over the group's parts instead of one function call and query per report. The
-- at-commit trigger then finds them folded and leaves them. Only reports not yet folded are
-- touched: the function derives rows from what is stored and changes nothing else, so the service
-- may call it with any ids.
CREATE FUNCTION centinela_fold_new_reports(reports uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM centinela_refresh_report_current(
        ARRAY(SELECT r FROM unnest(reports) AS r WHERE NOT EXISTS (SELECT 1 FROM report_current c WHERE c.report_id = r)));
END;
$$;
REVOKE ALL ON FUNCTION centinela_fold_new_reports(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION centinela_fold_new_reports(uuid[]) TO centinela_service;
