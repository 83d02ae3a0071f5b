#!/usr/bin/env bash
# Makes the kind cluster `tilt up` deploys to, with what the manifests expect to be installed already: Dapr (Helm
# chart, the version npm start builds), the Gateway API CRDs and Envoy Gateway (Helm chart, OCI). Idempotent.
# Needs docker, kind, kubectl and helm. Not run where the repository is tested (no Docker engine): docs/deploying.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/runtime/versions.env
source "$root/scripts/runtime/versions.env"
ENVOY_GATEWAY_VERSION=${ENVOY_GATEWAY_VERSION:-v1.6.0}

kind get clusters | grep -qx mercato || kind create cluster --name mercato --config "$root/tilt/kind-cluster.yaml"
kubectl config use-context kind-mercato

# Dapr's control plane, one replica each (overlays/prod's cluster runs placement and scheduler in HA: docs/deploying.md).
helm repo add dapr https://dapr.github.io/helm-charts/ >/dev/null 2>&1 || true
helm repo update dapr >/dev/null
helm upgrade --install dapr dapr/dapr --version "$DAPR_VERSION" --namespace dapr-system --create-namespace --wait

# Envoy Gateway brings the Gateway API's standard CRDs with it.
helm upgrade --install eg oci://docker.io/envoyproxy/gateway-helm --version "$ENVOY_GATEWAY_VERSION" \
  --namespace envoy-gateway-system --create-namespace --wait

# Envoy Gateway makes one Service per Gateway; kind reaches it through a fixed NodePort (tilt/kind-cluster.yaml).
cat <<'YAML' | kubectl apply -f -
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: { name: kind-nodeport, namespace: envoy-gateway-system }
spec:
  provider:
    type: Kubernetes
    kubernetes:
      envoyService:
        type: NodePort
        patch:
          type: StrategicMerge
          value: { spec: { ports: [{ port: 80, nodePort: 30080 }] } }
YAML
echo "kind cluster mercato ready: run tilt up"
