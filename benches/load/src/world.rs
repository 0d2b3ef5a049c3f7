//! The seeded world's names, shared by `seed` (which creates it) and `run` (which logs in
//! as its users): 100 organizations, each with one admin and 99 plain users, a superuser,
//! and for each client a pool of users in no organization for its admin to add.

/// Organizations seeded.
pub const ORGANIZATIONS: usize = 100;
/// Users per organization: one admin and the rest plain users.
pub const USERS_PER_ORGANIZATION: usize = 100;
/// Users in no organization, per client, that the add-member scenario adds.
pub const SPARES_PER_CLIENT: usize = 100;
/// The password of every seeded user.
pub const PASSWORD: &str = "load-test-password";
/// The superuser.
pub const ROOT: &str = "root";

/// The name of organization `o`.
pub fn organization(o: usize) -> String {
    format!("org-{o}")
}

/// The admin of organization `o`.
pub fn admin(o: usize) -> String {
    format!("admin-{o}")
}

/// Plain user `u` (1 or more) of organization `o`.
pub fn member(o: usize, u: usize) -> String {
    format!("user-{o}-{u}")
}

/// Spare user `i` of client `c`, in no organization when seeded.
pub fn spare(c: usize, i: usize) -> String {
    format!("spare-{c}-{i}")
}
