//! The engine's [`PrincipalSet`] (the users allowed an action on a resource) as a SQL
//! predicate over a users table, and keyset pages by id (the searches of SPEC §11).

use orgtenancy_core::{CreatorGrant, MemberGrant, Members, PrincipalSet, Role, Scope};

use crate::{
    SqlStore, StoreResult, User,
    rows::{USER_COLUMNS, UserRow},
    statement::Sql,
    validate,
};

/// The columns of a users table that a [`PrincipalSet`] is rendered over. The names are
/// written verbatim into SQL: constants of the application, never input.
///
/// The store's own `users` table is [`UserColumns::USERS`]; an application with its own
/// table (or an alias in a join, `"u.id"`) names its columns with [`UserColumns::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserColumns {
    /// The user's id (an integer).
    pub id: &'static str,
    /// The role, as text: [`Role::as_str`] (`'user'`, `'admin'`, `'superuser'`).
    pub role: &'static str,
    /// The user's organization id, `NULL` for none.
    pub organization_id: &'static str,
    /// The capability mask, an integer: `CapabilitySet::bits`.
    pub capabilities: &'static str,
    /// Whether the account is active (a boolean).
    pub is_active: &'static str,
}

impl UserColumns {
    /// The store's own `users` table.
    pub const USERS: UserColumns =
        UserColumns::new("id", "role", "organization_id", "capabilities", "is_active");

    /// The columns of a users table, in the order of the fields.
    pub const fn new(
        id: &'static str,
        role: &'static str,
        organization_id: &'static str,
        capabilities: &'static str,
        is_active: &'static str,
    ) -> UserColumns {
        UserColumns {
            id,
            role,
            organization_id,
            capabilities,
            is_active,
        }
    }
}

/// A page of a search in id order: the rows after the id `after` (from the start when
/// `None`), at most `limit` of them. Following pages pass the last id of the page before, so
/// every match is returned exactly once even while rows are added (keyset paging).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeysetPage {
    /// The last id of the previous page, or `None` for the first page.
    pub after: Option<i64>,
    /// Rows to return, 1–1000 ([`MAX_PAGE`](crate::MAX_PAGE)).
    pub limit: u32,
}

impl Default for KeysetPage {
    fn default() -> Self {
        KeysetPage {
            after: None,
            limit: 100,
        }
    }
}

impl Sql {
    /// Appends the predicate for `set` over the users table `columns`, one parenthesised
    /// boolean expression with every value bound:
    ///
    /// ```text
    /// (is_active = TRUE AND (FALSE
    ///     OR role = 'superuser'                                  -- set.superusers
    ///     OR (id = creator [AND organization_id = within])       -- set.creator
    ///     OR (organization_id = o                                -- set.members
    ///         [AND (role = 'admin' OR (capabilities & mask) <> 0)])))
    /// ```
    ///
    /// A users query filtered by it returns exactly the users the engine allows the action
    /// (`set.contains(user)`); [`Members`] variants this crate does not know admit no one.
    ///
    /// ```
    /// use orgtenancy_core::{Action, OrgId, Policy, Resource, UserId};
    /// use orgtenancy_sqlx::{KeysetPage, UserColumns, statement::Sql};
    ///
    /// let report = Resource::new(Some(OrgId(7)), Some(UserId(3)));
    /// let readers = Policy::DOCUMENTED.principals_allowed(Action::Read, &report);
    /// let mut sql = Sql::new("SELECT id FROM users WHERE ");
    /// sql.principals(readers, UserColumns::USERS)
    ///     .keyset("id", KeysetPage { after: Some(40), limit: 100 });
    /// ```
    pub fn principals(&mut self, set: PrincipalSet, columns: UserColumns) -> &mut Sql {
        active(self, columns).push(" AND (FALSE");
        for part in parts(set).into_iter().flatten() {
            self.push(" OR ");
            write_part(self, part, columns);
        }
        self.push("))")
    }

    /// Appends a keyset page over `id_column`: ` AND id_column > after` (when `page.after`
    /// is some), then ` ORDER BY id_column LIMIT limit`. It follows a `WHERE` predicate
    /// (a [`Sql::scope`], a [`Sql::principals`]); an index whose last column is the id and
    /// whose leading columns the predicate fixes (`users (organization_id, id)`, or the
    /// primary key) lets the database stop after the page. Check the limit with
    /// [`crate::validate::keyset_page`] first.
    pub fn keyset(&mut self, id_column: &'static str, page: KeysetPage) -> &mut Sql {
        if let Some(after) = page.after {
            self.push(" AND ").push(id_column).push(" > ").bind(after);
        }
        self.push(" ORDER BY ")
            .push(id_column)
            .push(" LIMIT ")
            .bind(i64::from(page.limit))
    }

    /// Appends a keyset page of the rows of `table` in both `scope` and `within` (over
    /// `org_column` and `creator_column`, as [`Sql::scope`]), after `WHERE`:
    ///
    /// ```text
    /// <scope> AND <within> AND id > after ORDER BY id LIMIT n
    /// ```
    ///
    /// except for a [`Scope::OrganizationOrCreator`] with a creator column, which no single
    /// index serves in id order (a database reads every row of the organization and sorts
    /// them, or walks the primary key and filters). It becomes one keyset page per
    /// alternative, each over its own index (`(org_column, id)`, `(creator_column, id)`),
    /// and the page of their union:
    ///
    /// ```text
    /// id IN (SELECT id FROM (
    ///            SELECT id FROM (SELECT id FROM table WHERE org = o AND <within> AND id > after
    ///                            ORDER BY id LIMIT n) AS part
    ///            UNION SELECT id FROM (… creator = c …) AS part
    ///        ) AS parts ORDER BY id LIMIT n)
    /// AND id > after ORDER BY id LIMIT n
    /// ```
    ///
    /// The same rows in the same order either way; the work follows the page size, not the
    /// size of the organization. `id` is the table's id column. Check the limit with
    /// [`crate::validate::keyset_page`] first.
    pub fn scoped_keyset(
        &mut self,
        table: &'static str,
        (scope, within): (Scope, Scope),
        org_column: &'static str,
        creator_column: Option<&'static str>,
        page: KeysetPage,
    ) -> &mut Sql {
        let parts = match (scope, creator_column) {
            (
                Scope::OrganizationOrCreator {
                    organization,
                    creator,
                },
                Some(_),
            ) => [Scope::Organization(organization), Scope::Creator(creator)],
            _ => {
                return self
                    .scope(scope, org_column, creator_column)
                    .push(" AND ")
                    .scope(within, org_column, creator_column)
                    .keyset("id", page);
            }
        };
        self.push("id IN (SELECT id FROM (");
        let mut union = "";
        for part in parts {
            self.push(union)
                .push("SELECT id FROM (SELECT id FROM ")
                .push(table)
                .push(" WHERE ")
                .scope(part, org_column, creator_column)
                .push(" AND ")
                .scope(within, org_column, creator_column)
                .keyset("id", page)
                .push(") AS part");
            union = " UNION ";
        }
        close_union(self, page).keyset("id", page)
    }
}

/// Closes `id IN (SELECT id FROM (<pages> UNION <pages>` with `) AS parts ORDER BY id LIMIT
/// n)`: at most `n` distinct ids, so the outer query looks up just those by primary key
/// (without the limit, PostgreSQL's generic plan may merge-join the whole id range the
/// pages span).
fn close_union(sql: &mut Sql, page: KeysetPage) -> &mut Sql {
    sql.push(") AS parts ORDER BY id LIMIT ")
        .bind(i64::from(page.limit))
        .push(")")
}

impl SqlStore {
    /// [`Store::list_users_allowed`](crate::Store::list_users_allowed): the store's users in
    /// `allowed`, one keyset page in id order.
    ///
    /// The query is the union of one keyset page per part of the set, each over its own
    /// index — the superusers over `users (role, id)`, the members of an organization over
    /// `users (organization_id, id)`, the creator over the primary key — then the page of
    /// their union; so the work follows the page size, not the size of the users table.
    /// Equivalent to filtering by [`Sql::principals`].
    pub(crate) async fn users_allowed(
        &self,
        allowed: PrincipalSet,
        page: KeysetPage,
    ) -> StoreResult<Vec<User>> {
        let page = validate::keyset_page(page)?;
        let columns = UserColumns::USERS;
        let mut sql = Sql::new("SELECT ");
        sql.push(USER_COLUMNS)
            .push(" FROM users WHERE id IN (SELECT id FROM (");
        let mut union = "";
        for part in parts(allowed).into_iter().flatten() {
            sql.push(union)
                .push("SELECT id FROM (SELECT id FROM users WHERE ");
            union = " UNION ";
            active(&mut sql, columns).push(" AND ");
            write_part(&mut sql, part, columns);
            sql.push(")").keyset("id", page).push(") AS part");
        }
        if union.is_empty() {
            return Ok(Vec::new());
        }
        close_union(&mut sql, page).keyset("id", page);
        let rows: Vec<UserRow> = self.read_all(sql).await?;
        rows.into_iter().map(UserRow::into_user).collect()
    }
}

/// [`Role::Superuser`] as an SQL literal. Written into the statement, not bound: a constant
/// of this crate, never input. With a bound value PostgreSQL's generic plan of a prepared
/// statement (used after five executions) takes the role for any of three and scans the
/// primary key for the few superusers instead of reading `users (role, id)` — 21 ms instead
/// of 0.1 ms at 100 k users.
const SUPERUSER: &str = "'superuser'";

/// One alternative of a [`PrincipalSet`].
#[derive(Debug, Clone, Copy)]
enum Part {
    Superusers,
    Creator(CreatorGrant),
    Members(MemberGrant),
}

/// The alternatives of `set` that admit anyone.
fn parts(set: PrincipalSet) -> [Option<Part>; 3] {
    [
        set.superusers.then_some(Part::Superusers),
        set.creator.map(Part::Creator),
        set.members.map(Part::Members),
    ]
}

/// `(is_active = TRUE` (the parenthesis left open).
fn active(sql: &mut Sql, columns: UserColumns) -> &mut Sql {
    sql.push("(").push(columns.is_active).push(" = ").bind(true)
}

/// One alternative, parenthesised.
fn write_part(sql: &mut Sql, part: Part, columns: UserColumns) {
    match part {
        Part::Superusers => {
            sql.push("(")
                .push(columns.role)
                .push(" = ")
                .push(SUPERUSER)
                .push(")");
        }
        Part::Creator(creator) => write_creator(sql, creator, columns),
        Part::Members(members) => write_members(sql, members, columns),
    }
}

/// `(id = creator [AND organization_id = within])`.
fn write_creator(sql: &mut Sql, creator: CreatorGrant, columns: UserColumns) {
    sql.push("(")
        .push(columns.id)
        .push(" = ")
        .bind(creator.user.0);
    if let Some(within) = creator.within {
        sql.push(" AND ")
            .push(columns.organization_id)
            .push(" = ")
            .bind(within.0);
    }
    sql.push(")");
}

/// `(organization_id = o [AND (role = 'admin' OR (capabilities & mask) <> 0)])`.
fn write_members(sql: &mut Sql, members: MemberGrant, columns: UserColumns) {
    sql.push("(")
        .push(columns.organization_id)
        .push(" = ")
        .bind(members.organization.0);
    match members.members {
        Members::Everyone => {}
        Members::AdminsOrHolders(capability) => {
            let mask = 1_i64 << capability.bit();
            sql.push(" AND (")
                .push(columns.role)
                .push(" = ")
                .bind(Role::Admin.as_str())
                .push(" OR (")
                .push(columns.capabilities)
                .push(" & ")
                .bind(mask)
                .push(") <> 0)");
        }
        // A qualification added to the engine later: admit no one by it until it is rendered.
        _ => {
            sql.push(" AND FALSE");
        }
    }
    sql.push(")");
}

#[cfg(test)]
mod tests {
    use orgtenancy_core::Role;

    #[test]
    fn the_superuser_literal_is_the_role_spelling() {
        assert_eq!(super::SUPERUSER, format!("'{}'", Role::Superuser.as_str()));
    }
}
