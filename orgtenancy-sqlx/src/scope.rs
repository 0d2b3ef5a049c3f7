//! The listing [`Scope`] of `orgtenancy-core` as a SQL predicate.

use orgtenancy_core::Scope;
use sqlx::{Database, Encode, QueryBuilder, Type};

/// Appends the predicate for `scope` to `qb`, as one parenthesised boolean expression.
///
/// This is the one place where a scope becomes SQL; the store uses it for its own lists and an
/// embedding application can use it for its own resource tables, so that a list query returns
/// exactly the rows the engine would let the principal read (the engine guarantees that
/// `scope.contains(r)` agrees with `authorize(p, Read, r)`). The database does the filtering,
/// so together with `LIMIT`/`OFFSET` and an index on the columns a list never loads rows only
/// to drop them.
///
/// | scope | predicate |
/// |---|---|
/// | `All` | `(TRUE)` |
/// | `Organization(o)` | `(org_column = o)` |
/// | `OrganizationOrCreator { o, u }` | `(org_column = o OR creator_column = u)` |
/// | `Creator(u)` | `(creator_column = u)` |
/// | `CreatorInOrganization { o, u }` | `(org_column = o AND creator_column = u)` |
/// | `Nothing` | `(FALSE)` |
///
/// Without a `creator_column` (a table whose rows have no creator, such as the organizations
/// table) the creator part is false: `OrganizationOrCreator` becomes `(org_column = o)`,
/// `Creator` and `CreatorInOrganization` become `(FALSE)`.
///
/// The scope may be of any action ([`Policy::scope_for`](orgtenancy_core::Policy::scope_for)):
/// the rows a principal may write with a capability render the same way as the rows it may
/// read.
///
/// Ids are always bound (`push_bind`, so `?` on SQLite and `$N` on PostgreSQL); the column
/// names are written verbatim and must be constants of the application, never input.
///
/// ```
/// use orgtenancy_core::{OrgId, Policy, Principal, Role, UserId};
/// use orgtenancy_sqlx::push_scope;
/// use sqlx::{QueryBuilder, Sqlite};
///
/// let bob = Principal::new(UserId(2), Role::User, Some(OrgId(7)));
/// let mut qb = QueryBuilder::<Sqlite>::new("SELECT id FROM certificates WHERE ");
/// push_scope(&mut qb, Policy::DOCUMENTED.scope(&bob), "organization_id", Some("created_by"));
/// qb.push(" ORDER BY id LIMIT 100");
/// assert_eq!(
///     qb.sql(),
///     "SELECT id FROM certificates WHERE (organization_id = ? OR created_by = ?) ORDER BY id LIMIT 100",
/// );
/// ```
pub fn push_scope<'args, DB>(
    qb: &mut QueryBuilder<'args, DB>,
    scope: Scope,
    org_column: &str,
    creator_column: Option<&str>,
) where
    DB: Database,
    i64: 'args + Encode<'args, DB> + Type<DB>,
{
    write_scope(qb, scope, org_column, creator_column);
}

/// Something SQL text and id binds can be appended to: sqlx's `QueryBuilder` and the store's
/// own backend-neutral query.
pub(crate) trait SqlSink {
    /// Appends SQL text.
    fn sql(&mut self, sql: &str);
    /// Appends a bound id.
    fn id(&mut self, id: i64);
}

impl<'args, DB> SqlSink for QueryBuilder<'args, DB>
where
    DB: Database,
    i64: 'args + Encode<'args, DB> + Type<DB>,
{
    fn sql(&mut self, sql: &str) {
        self.push(sql);
    }

    fn id(&mut self, id: i64) {
        self.push_bind(id);
    }
}

/// The rendering behind [`push_scope`], shared with the store's own queries.
pub(crate) fn write_scope(
    out: &mut impl SqlSink,
    scope: Scope,
    org_column: &str,
    creator_column: Option<&str>,
) {
    match (scope, creator_column) {
        (Scope::All, _) => out.sql("(TRUE)"),
        (Scope::Nothing, _) | (Scope::Creator(_) | Scope::CreatorInOrganization { .. }, None) => {
            out.sql("(FALSE)")
        }
        (Scope::Organization(organization), _)
        | (Scope::OrganizationOrCreator { organization, .. }, None) => {
            out.sql("(");
            equals(out, org_column, organization.0);
            out.sql(")");
        }
        (
            Scope::OrganizationOrCreator {
                organization,
                creator,
            },
            Some(creator_column),
        ) => {
            out.sql("(");
            equals(out, org_column, organization.0);
            out.sql(" OR ");
            equals(out, creator_column, creator.0);
            out.sql(")");
        }
        (
            Scope::CreatorInOrganization {
                organization,
                creator,
            },
            Some(creator_column),
        ) => {
            out.sql("(");
            equals(out, org_column, organization.0);
            out.sql(" AND ");
            equals(out, creator_column, creator.0);
            out.sql(")");
        }
        (Scope::Creator(creator), Some(creator_column)) => {
            out.sql("(");
            equals(out, creator_column, creator.0);
            out.sql(")");
        }
    }
}

/// `column = id`, the id bound.
pub(crate) fn equals(out: &mut impl SqlSink, column: &str, id: i64) {
    out.sql(column);
    out.sql(" = ");
    out.id(id);
}
