//! `cluster.collect` / cluster name: pods and nodes of a cluster with an API server.

use crate::jobs::kind::{Job, JobContext, JobError};
use crate::store::capabilities::*;
use chrono::{DateTime, Utc};

pub struct ClusterCollect;

/// What a collection read, or that the cluster is no longer collected.
pub enum Collected {
    Gone(String),
    Read { pods: usize, containers: usize, ended: u64, nodes: usize },
}

impl std::fmt::Display for Collected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Collected::Gone(name) => write!(f, "the cluster {name} is no longer collected"),
            Collected::Read { pods, containers, ended, nodes } => {
                write!(f, "{pods} pods, {containers} containers ({ended} ended), {nodes} nodes")
            }
        }
    }
}

impl Job for ClusterCollect {
    const KIND: &'static str = "cluster.collect";
    type Payload = crate::domain::ClusterName;
    type Outcome = Collected;

    async fn run(&self, ctx: &JobContext, cluster: crate::domain::ClusterName, now: DateTime<Utc>) -> Result<Collected, JobError> {
        let clusters = ctx.store.collectable_clusters().await?;
        let Some(c) = clusters.into_iter().find(|c| c.name == cluster) else {
            return Ok(Collected::Gone(cluster.to_string()));
        };
        let (pods, containers, ended, nodes) = crate::cluster::collect_and_record(&ctx.store, &c, now).await.map_err(JobError::Failed)?;
        Ok(Collected::Read { pods, containers, ended, nodes })
    }
}
