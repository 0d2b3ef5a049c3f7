-- The application's own table, next to the tenancy tables in the same database. Every document
-- belongs to one organization; deleting an organization that still owns documents is refused
-- (ON DELETE RESTRICT), which the store reports as Conflict::OrganizationNotEmpty.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    title TEXT NOT NULL
);

CREATE INDEX documents_organization ON documents (organization_id, id);
CREATE INDEX documents_created_by ON documents (created_by, id);
