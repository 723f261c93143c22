-- A user may restrict its logins and token use to some networks (SPEC §9).
-- Empty means anywhere.
alter table users add column allowed_networks cidr[] not null default '{}';
