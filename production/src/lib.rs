//! Placeholder until the production VM lands.
