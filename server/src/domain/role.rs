//! Who may do what: the five roles and the set a user holds.
//!
//! Everyone signed in is a collector. Reviewer, admin and regulator are granted explicitly
//! (stored roles); a regulator reads everything and changes nothing, and admins are not
//! regulators unless granted;
//! issuer membership comes from belonging to an issuer. Web extractors ask [`Roles::has`], so
//! the whole policy lives here.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Collector,
    IssuerMember,
    Reviewer,
    Admin,
    Regulator,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Collector,
        Role::IssuerMember,
        Role::Reviewer,
        Role::Admin,
        Role::Regulator,
    ];

    /// Roles that are stored as grants (the others are implied or derived).
    pub const GRANTABLE: [Role; 3] = [Role::Reviewer, Role::Admin, Role::Regulator];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Collector => "collector",
            Role::IssuerMember => "issuer_member",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
            Role::Regulator => "regulator",
        }
    }

    pub fn is_grantable(self) -> bool {
        Self::GRANTABLE.contains(&self)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// The roles one signed-in user holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    granted: Vec<Role>,
    issuer_member: bool,
}

impl Roles {
    pub fn new(granted: impl IntoIterator<Item = Role>, issuer_member: bool) -> Self {
        let mut granted: Vec<Role> = granted.into_iter().filter(|r| r.is_grantable()).collect();
        granted.sort();
        granted.dedup();
        Self { granted, issuer_member }
    }

    /// Whether the user may act in `role`. Admins may do what reviewers do; every signed-in
    /// user is a collector.
    pub fn has(&self, role: Role) -> bool {
        match role {
            Role::Collector => true,
            Role::IssuerMember => self.issuer_member,
            Role::Reviewer => self.granted.contains(&Role::Reviewer) || self.granted.contains(&Role::Admin),
            Role::Admin => self.granted.contains(&Role::Admin),
            Role::Regulator => self.granted.contains(&Role::Regulator),
        }
    }

    /// Roles explicitly granted, for display in the admin console.
    pub fn granted(&self) -> &[Role] {
        &self.granted
    }
}

/// Why a role change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleChangeError {
    #[error("this role cannot be granted or revoked by hand")]
    NotGrantable,
    #[error("admins cannot remove their own admin role")]
    SelfDemotion,
    #[error("an admin cannot make themselves a regulator")]
    SelfOversight,
    #[error("a regulator holds no reviewer or admin role, and a reviewer or admin is no regulator")]
    OversightApart,
}

/// Decides whether `actor` may grant or revoke `role` for `target`, who holds `held`. Those who
/// oversee the platform are kept apart from those who run it: a regulator is never also a
/// reviewer or an admin, and no admin makes themselves a regulator.
pub fn check_role_change(
    actor_id: i64,
    target_id: i64,
    role: Role,
    grant: bool,
    held: &[Role],
) -> Result<(), RoleChangeError> {
    if !role.is_grantable() {
        return Err(RoleChangeError::NotGrantable);
    }
    if !grant && role == Role::Admin && actor_id == target_id {
        return Err(RoleChangeError::SelfDemotion);
    }
    if grant && role == Role::Regulator && actor_id == target_id {
        return Err(RoleChangeError::SelfOversight);
    }
    let runs = |r: &Role| matches!(r, Role::Reviewer | Role::Admin);
    let apart = match role {
        Role::Regulator => held.iter().any(runs),
        _ => runs(&role) && held.contains(&Role::Regulator),
    };
    if grant && apart {
        return Err(RoleChangeError::OversightApart);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_account_is_only_a_collector() {
        let roles = Roles::default();
        assert!(roles.has(Role::Collector));
        assert!(!roles.has(Role::IssuerMember));
        assert!(!roles.has(Role::Reviewer));
        assert!(!roles.has(Role::Admin));
    }

    #[test]
    fn reviewer_is_not_admin() {
        let roles = Roles::new([Role::Reviewer], false);
        assert!(roles.has(Role::Reviewer));
        assert!(!roles.has(Role::Admin));
    }

    #[test]
    fn admin_can_review() {
        let roles = Roles::new([Role::Admin], false);
        assert!(roles.has(Role::Admin));
        assert!(roles.has(Role::Reviewer));
    }

    #[test]
    fn a_regulator_is_granted_and_not_implied_by_admin() {
        let admin = Roles::new([Role::Admin], false);
        assert!(!admin.has(Role::Regulator));
        let regulator = Roles::new([Role::Regulator], false);
        assert!(regulator.has(Role::Regulator));
        assert!(!regulator.has(Role::Reviewer));
        assert!(!regulator.has(Role::Admin));
        assert_eq!(check_role_change(1, 2, Role::Regulator, true, &[]), Ok(()));
    }

    #[test]
    fn those_who_oversee_are_kept_apart_from_those_who_run_the_platform() {
        assert_eq!(
            check_role_change(1, 1, Role::Regulator, true, &[Role::Admin]),
            Err(RoleChangeError::SelfOversight)
        );
        assert_eq!(
            check_role_change(1, 2, Role::Regulator, true, &[Role::Reviewer]),
            Err(RoleChangeError::OversightApart)
        );
        assert_eq!(
            check_role_change(1, 2, Role::Admin, true, &[Role::Regulator]),
            Err(RoleChangeError::OversightApart)
        );
        assert_eq!(
            check_role_change(1, 2, Role::Reviewer, true, &[Role::Regulator]),
            Err(RoleChangeError::OversightApart)
        );
        assert_eq!(
            check_role_change(1, 2, Role::Regulator, false, &[Role::Regulator]),
            Ok(())
        );
    }

    #[test]
    fn issuer_membership_is_derived_not_granted() {
        let roles = Roles::new([Role::IssuerMember, Role::Collector], false);
        assert!(!roles.has(Role::IssuerMember));
        assert!(roles.granted().is_empty());
        assert!(Roles::new([], true).has(Role::IssuerMember));
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn role_changes() {
        assert_eq!(check_role_change(1, 2, Role::Reviewer, true, &[]), Ok(()));
        assert_eq!(check_role_change(1, 2, Role::Reviewer, false, &[]), Ok(()));
        assert_eq!(check_role_change(1, 1, Role::Reviewer, false, &[]), Ok(()));
        assert_eq!(
            check_role_change(1, 2, Role::Collector, true, &[]),
            Err(RoleChangeError::NotGrantable)
        );
        assert_eq!(
            check_role_change(1, 2, Role::IssuerMember, true, &[]),
            Err(RoleChangeError::NotGrantable)
        );
        assert_eq!(
            check_role_change(1, 1, Role::Admin, false, &[]),
            Err(RoleChangeError::SelfDemotion)
        );
        assert_eq!(check_role_change(1, 2, Role::Admin, false, &[]), Ok(()));
    }
}
