//! A simulated AWS account and EKS cluster implementing every custody port, with a virtual clock and a latency model.
