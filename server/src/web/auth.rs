//! Authorisation, in one place: extractors that admit a request only for a signed-in user,
//! or only for a user holding a role. Handlers name the extractor; they contain no role checks.

use std::collections::HashMap;
use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::context::{RequestContext, SessionUser};
use super::error::AppError;
use crate::domain::ids::IssuerId;
use crate::domain::issuer::Issuer;
use crate::domain::role::Role;
use crate::domain::second_factor;
use crate::services::issuers;
use crate::state::AppState;

fn context(parts: &Parts) -> Result<&RequestContext, AppError> {
    parts
        .extensions
        .get::<RequestContext>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("request context missing")))
}

fn signed_in(parts: &Parts) -> Result<SessionUser, AppError> {
    let ctx = context(parts)?;
    ctx.user
        .clone()
        .ok_or_else(|| AppError::Unauthenticated { next: ctx.path.clone() })
}

/// Any signed-in user (every account is at least a collector).
#[derive(Debug, Clone)]
pub struct SignedIn(pub SessionUser);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        signed_in(parts).map(SignedIn)
    }
}

/// A role that guards a group of pages.
pub trait RoleGate {
    const ROLE: Role;
}

/// The platform administrator.
#[derive(Debug, Clone, Copy)]
pub struct AdminRole;

impl RoleGate for AdminRole {
    const ROLE: Role = Role::Admin;
}

/// A compliance reviewer (admins review too).
#[derive(Debug, Clone, Copy)]
pub struct ReviewerRole;

impl RoleGate for ReviewerRole {
    const ROLE: Role = Role::Reviewer;
}

/// A regulator: reads everything, changes nothing, reveals an identity only on a legal request.
#[derive(Debug, Clone, Copy)]
pub struct RegulatorRole;

impl RoleGate for RegulatorRole {
    const ROLE: Role = Role::Regulator;
}

/// A signed-in user holding `G::ROLE`; anyone else gets 403 (or the log-in page). Staff roles
/// also need a second factor: without one, the page to enrol it.
#[derive(Debug, Clone)]
pub struct Authorized<G: RoleGate> {
    pub user: SessionUser,
    gate: PhantomData<G>,
}

impl<G: RoleGate, S: Send + Sync> FromRequestParts<S> for Authorized<G> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let user = signed_in(parts)?;
        if !user.roles.has(G::ROLE) {
            let path = super::log_path::loggable(parts.uri.path());
            tracing::warn!(user = %user.id, role = %G::ROLE, %path, "access refused");
            return Err(AppError::Forbidden);
        }
        if second_factor::guards(G::ROLE) && !user.second_factor {
            return Err(AppError::SecondFactorNeeded {
                next: context(parts)?.path.clone(),
            });
        }
        Ok(Self {
            user,
            gate: PhantomData,
        })
    }
}

pub type Admin = Authorized<AdminRole>;
pub type Reviewer = Authorized<ReviewerRole>;
pub type Regulator = Authorized<RegulatorRole>;

/// A member acting for the issuer named by the `{issuer}` path segment. Anyone who is not a
/// member gets 404, so issuer ids reveal nothing to outsiders.
#[derive(Debug, Clone)]
pub struct ActingFor {
    pub user: SessionUser,
    pub issuer: Issuer,
    /// Whether the member administers the issuer (invites members, manages API keys).
    pub is_admin: bool,
}

impl FromRequestParts<AppState> for ActingFor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = signed_in(parts)?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let id: IssuerId = params
            .get("issuer")
            .and_then(|v| v.parse().ok())
            .ok_or(AppError::NotFound)?;
        let is_admin = issuers::membership(&state.services, id, user.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let issuer = issuers::find(&state.services, id).await?;
        Ok(Self { user, issuer, is_admin })
    }
}

/// An administrator of the issuer named by the `{issuer}` path segment (who invites members
/// and manages API keys); other members get 403, outsiders 404.
#[derive(Debug, Clone)]
pub struct IssuerAdmin(pub ActingFor);

impl FromRequestParts<AppState> for IssuerAdmin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let acting = ActingFor::from_request_parts(parts, state).await?;
        if !acting.is_admin {
            return Err(AppError::Forbidden);
        }
        Ok(Self(acting))
    }
}
