-- lethe schema, version 4: phone numbers (E.164) as an id_type.
-- Widens the CHECK constraint on requests.id_type. SQLite cannot alter a constraint, and a table
-- rebuild would have to recreate every index, trigger and foreign key that refers to requests.
-- A constraint that only allows more values leaves every stored row valid, which is the case
-- SQLite documents for editing the stored schema text in place
-- (https://www.sqlite.org/lang_altertable.html#otheralter, "the following simpler procedure").
-- The migration runner lifts defensive mode for this statement only and bumps the schema cookie.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'CHECK (id_type IN (''id'', ''email'', ''cio_id''))',
                          'CHECK (id_type IN (''id'', ''email'', ''cio_id'', ''phone''))')
 WHERE type = 'table' AND name = 'requests';
PRAGMA writable_schema = OFF;
-- Fails the migration (and so rolls it back) unless the constraint was found and widened.
CREATE TEMP TABLE migration_0004_check (widened INTEGER CHECK (widened = 1));
INSERT INTO migration_0004_check
SELECT count(*) FROM sqlite_schema
 WHERE type = 'table' AND name = 'requests'
   AND instr(sql, 'CHECK (id_type IN (''id'', ''email'', ''cio_id'', ''phone''))') > 0;
DROP TABLE migration_0004_check;
