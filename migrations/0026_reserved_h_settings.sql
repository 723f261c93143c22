-- Placeholder (h-tokens): issue 22's admin queues (h-queues) and settings
-- (h-settings) own migrations 0025 and 0026; tern refuses a gap, so this
-- empty file holds the number until their migration lands. Delete it when
-- merging theirs (tern then fails loudly on two migrations 0026).
select 1;
