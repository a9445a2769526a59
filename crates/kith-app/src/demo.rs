//! Demo workspace.
