//! EKS authentication and the Kubernetes cluster port over kube-rs.
