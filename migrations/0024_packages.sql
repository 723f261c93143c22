-- Configuration packages (issue 20): the archive a developer exports from
-- the CRM, uploaded for a draft version, checked on submit, delivered to
-- every installation's CRM and to buyers as their backup.

-- The default package storage: objects in chunks of at most 1 MiB, so no
-- row is ever hundreds of megabytes. An object is written chunk by chunk,
-- each in its own short statement (an upload never holds a transaction
-- open for minutes), and becomes visible only when complete; an
-- interrupted upload's chunks are deleted at once, and a crash's by the
-- cleanup job. With OBJECT_STORE_URL set these two tables stay empty.
create table blobs (
    key        text primary key check (length(key) between 1 and 500),
    size       bigint not null default 0 check (size >= 0),
    complete   boolean not null default false,
    created_at timestamptz not null default now()
);
create index blobs_incomplete_idx on blobs (created_at) where not complete;

create table blob_chunks (
    key  text not null references blobs (key) on delete cascade,
    n    integer not null check (n >= 0),
    data bytea not null check (length(data) between 1 and 1048576),
    primary key (key, n)
);

-- A version's package: where its bytes are, what they are, and what the
-- archive says of itself. One per version; replaced while the version is a
-- draft, immutable from its submission on.
create table version_packages (
    version_id  uuid primary key references versions (id),
    blob_key    text not null unique,
    sha256      bytea not null check (length(sha256) = 32),
    size        bigint not null check (size > 0),
    -- manifest.json as found in the archive; null when there is none.
    manifest    jsonb,
    -- Why the archive is not a well-formed package; null when it is.
    problem     text,
    uploaded_by uuid references users (id),
    uploaded_at timestamptz not null
);
-- "Copied content from another developer" (SPEC §2): the same bytes.
create index version_packages_sha256_idx on version_packages (sha256);

create function cm_version_package_frozen() returns trigger language plpgsql as $$
begin
    if (select state from versions where id = old.version_id) <> 'draft' then
        raise exception 'the package of a submitted version is immutable' using errcode = 'check_violation',
            constraint = 'version_packages_frozen';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end $$;

create trigger version_packages_frozen before update or delete on version_packages
    for each row execute function cm_version_package_frozen();

-- Each CRM fetch of an installation's package, counted.
create table package_downloads (
    installation_id uuid primary key references installations (id),
    downloads       bigint not null default 0 check (downloads >= 0),
    last_version_id uuid references versions (id),
    last_at         timestamptz
);
