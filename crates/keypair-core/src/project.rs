//! Which CVM projects exist per account: the `ProjectCatalog` port and two catalogs.

use crate::{AccountId, ProjectId};
use std::collections::{HashMap, HashSet};

/// Port: tells whether a project exists for an account.
///
/// Contract: project 0 (the default project) exists for every account; the answer is
/// cheap and does not block.
pub trait ProjectCatalog: Send + Sync {
    /// Whether `project` exists for `account`.
    fn exists(&self, account: &AccountId, project: ProjectId) -> bool;
}

/// Only the default project exists.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultProjectOnly;

impl ProjectCatalog for DefaultProjectOnly {
    fn exists(&self, _: &AccountId, project: ProjectId) -> bool {
        project == ProjectId::DEFAULT
    }
}

/// A fixed list of projects per account (from configuration), plus project 0.
#[derive(Debug, Default, Clone)]
pub struct StaticProjects(HashMap<AccountId, HashSet<ProjectId>>);

impl StaticProjects {
    /// An empty catalog: every account has only project 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds projects for an account.
    pub fn with(
        mut self,
        account: AccountId,
        projects: impl IntoIterator<Item = ProjectId>,
    ) -> Self {
        self.0.entry(account).or_default().extend(projects);
        self
    }
}

impl ProjectCatalog for StaticProjects {
    fn exists(&self, account: &AccountId, project: ProjectId) -> bool {
        project == ProjectId::DEFAULT || self.0.get(account).is_some_and(|p| p.contains(&project))
    }
}
