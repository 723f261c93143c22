-- Placeholder for issue 22 item 1's 0025 (admin queues), built in parallel:
-- tern refuses a gap in the numbers. Drop this file when that one is merged.
select 1;
