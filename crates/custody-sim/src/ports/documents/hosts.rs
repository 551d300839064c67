//! What each custody document does on a simulated host: memory capture, the pod map, host
//! state, and the two analyses on the workstation.

use super::*;

pub(super) fn capture_memory(mut host: Host<'_, '_>) -> Result<Outcome, Outcome> {
    let rc = host.rc;
    let inst = rc.instance;
    host.require_outputs(&["report"])?;
    let lime_name = format!("lime:{}", inst.kernel_release);
    let (method, tool) = if host.manifest.gets.contains_key(&lime_name) {
        let (p, _) = host.get(&lime_name)?;
        if p.key != lime_module_key(&inst.kernel_release) {
            return Err(failed(
                2.0,
                1,
                "insmod of the LiME module failed before LiME listened",
            ));
        }
        ("lime", lime_name)
    } else if host.manifest.gets.contains_key("avml") {
        let (p, _) = host.get("avml")?;
        if p.key != AVML_KEY {
            return Err(failed(
                2.0,
                1,
                "the memory stream does not start with a LiME header",
            ));
        }
        ("avml", "avml".to_string())
    } else {
        return Err(failed(
            1.0,
            1,
            format!(
                "no LiME module for kernel {:?} and no AVML in the manifest",
                inst.kernel_release
            ),
        ));
    };
    let tool_sha = host
        .manifest
        .gets
        .get(&tool)
        .map(|(s, _)| s.clone())
        .unwrap_or_default();
    let lat = &rc.st.latency;
    let seconds = lat.memory_capture(inst.memory_gib).as_secs_f64() - lat.command_dispatch_seconds;
    let finishes = plus(&rc.starts_at, seconds);
    let image_bytes = inst.memory_gib * GIB;
    let image = host.ship("image", None, image_bytes, &finishes)?;
    let mut summary = host.header();
    summary.insert("method".into(), json!(method));
    summary.insert("kernel_release".into(), json!(inst.kernel_release));
    summary.insert("tool_sha256".into(), json!(tool_sha));
    summary.insert("part_size".into(), json!(host.manifest.part_size));
    summary.insert("started_at".into(), json!(rc.starts_at.to_string()));
    summary.insert("finished_at".into(), json!(finishes.to_string()));
    summary.insert("tool_fetch_ms".into(), json!(800));
    summary.insert("stream_ms".into(), json!((seconds * 1000.0) as u64));
    let mut report = summary.clone();
    report.insert("image".into(), image.clone());
    let report_bytes = format!("{}\n", Value::Object(report)).into_bytes();
    let shipped = host.ship(
        "report",
        Some(&report_bytes),
        report_bytes.len() as u64,
        &finishes,
    )?;
    let part_count = image["parts"].as_array().map_or(0, Vec::len);
    summary.insert(
        "image".into(),
        json!({"bytes": image_bytes, "sha256": image["sha256"], "part_count": part_count}),
    );
    summary.insert("report".into(), shipped);
    Ok(host.done(seconds, summary))
}

fn pods_on<'a>(rc: &RunContext<'a>) -> Vec<(&'a crate::model::EksCluster, &'a crate::model::Pod)> {
    rc.st
        .accounts
        .iter()
        .flat_map(|a| &a.clusters)
        .flat_map(|c| {
            let node = c.nodes.iter().find(|n| {
                crate::validate::provider_instance(&n.provider_id)
                    .is_some_and(|i| i == rc.instance.id)
            });
            c.pods
                .iter()
                .filter(move |p| node.is_some_and(|n| n.name == p.node))
                .map(move |p| (c, p))
        })
        .collect()
}

pub(super) fn map_pods(mut host: Host<'_, '_>) -> Result<Outcome, Outcome> {
    let rc = host.rc;
    host.require_outputs(&["podmap"])?;
    let seconds = rc.st.latency.map_pods_seconds;
    let finishes = plus(&rc.starts_at, seconds);
    let pods = pods_on(rc);
    let hostname = pods
        .first()
        .and_then(|(c, _)| {
            c.nodes.iter().find(|n| {
                crate::validate::provider_instance(&n.provider_id)
                    .is_some_and(|i| i == rc.instance.id)
            })
        })
        .map_or_else(|| rc.instance.id.to_string(), |n| n.name.to_string());
    let mut ps = Vec::new();
    let mut containers = Vec::new();
    for (_, pod) in &pods {
        let sandbox = hex_sha(format!("sandbox {}", pod.uid).as_bytes());
        for c in &pod.containers {
            let labels = json!({
                "io.kubernetes.container.name": c.name,
                "io.kubernetes.pod.name": pod.name.as_str(),
                "io.kubernetes.pod.namespace": pod.namespace.as_str(),
                "io.kubernetes.pod.uid": pod.uid,
            });
            ps.push(json!({
                "id": c.id.as_str(), "podSandboxId": sandbox,
                "metadata": {"name": c.name, "attempt": 0}, "image": {"image": c.image},
                "imageRef": c.image, "state": "CONTAINER_RUNNING", "labels": labels,
            }));
            containers.push(json!({
                "id": c.id.as_str(), "pid": c.host_pid, "uts_hostname": pod.name.as_str(), "error": null,
                "inspect": {
                    "status": {"id": c.id.as_str(), "metadata": {"name": c.name}, "state": "CONTAINER_RUNNING",
                               "labels": labels, "image": {"image": c.image}},
                    "info": {"pid": c.host_pid, "sandboxID": sandbox},
                },
            }));
        }
    }
    let count = containers.len();
    let mut podmap = host.header();
    podmap.insert("node_hostname".into(), json!(hostname));
    podmap.insert("collected_at".into(), json!(rc.starts_at.to_string()));
    podmap.insert("crictl_ps".into(), json!({"containers": ps}));
    podmap.insert("containers".into(), Value::Array(containers));
    let bytes = format!("{}\n", Value::Object(podmap)).into_bytes();
    let shipped = host.ship("podmap", Some(&bytes), bytes.len() as u64, &finishes)?;
    let mut out = host.header();
    out.insert("collected_at".into(), json!(rc.starts_at.to_string()));
    out.insert("finished_at".into(), json!(finishes.to_string()));
    out.insert("containers".into(), json!(count));
    out.insert("unresolved".into(), json!(0));
    out.insert("podmap".into(), shipped);
    Ok(host.done(seconds, out))
}

pub(super) fn collect_host(mut host: Host<'_, '_>) -> Result<Outcome, Outcome> {
    let rc = host.rc;
    host.require_outputs(&["hoststate"])?;
    let seconds = rc.st.latency.collect_host_seconds;
    let finishes = plus(&rc.starts_at, seconds);
    let processes: Vec<Value> = pods_on(rc)
        .into_iter()
        .flat_map(|(_, p)| {
            p.containers
                .iter()
                .map(|c| json!({"pid": c.host_pid, "comm": c.name}))
        })
        .collect();
    let state = json!({"kernel_release": rc.instance.kernel_release, "processes": processes, "sockets": [], "users": []});
    let bytes = format!("{state}\n").into_bytes();
    let shipped = host.ship("hoststate", Some(&bytes), bytes.len() as u64, &finishes)?;
    let mut out = host.header();
    out.insert("started_at".into(), json!(rc.starts_at.to_string()));
    out.insert("finished_at".into(), json!(finishes.to_string()));
    out.insert("sections".into(), json!(["processes", "sockets", "users"]));
    out.insert("hoststate".into(), shipped);
    Ok(host.done(seconds, out))
}

pub(super) fn analyse_memory(mut host: Host<'_, '_>) -> Result<Outcome, Outcome> {
    let rc = host.rc;
    host.require_outputs(&["results", "report"])?;
    let (_, image_bytes) = host.get("image")?;
    let seconds =
        rc.st.latency.analyse_memory_seconds_per_gib * image_bytes.div_ceil(GIB).max(1) as f64;
    let finishes = plus(&rc.starts_at, seconds);
    let results = json!({"tool": "volatility3", "plugins": ["linux.pslist.PsList", "linux.sockstat.Sockstat", "linux.malfind.Malfind"]});
    let results_bytes = results.to_string().into_bytes();
    let shipped_results = host.ship(
        "results",
        Some(&results_bytes),
        results_bytes.len() as u64,
        &finishes,
    )?;
    let mut report = host.header();
    report.insert("image_bytes".into(), json!(image_bytes));
    report.insert("results".into(), shipped_results.clone());
    let report_bytes = format!("{}\n", Value::Object(report)).into_bytes();
    let shipped_report = host.ship(
        "report",
        Some(&report_bytes),
        report_bytes.len() as u64,
        &finishes,
    )?;
    let mut out = host.header();
    out.insert("started_at".into(), json!(rc.starts_at.to_string()));
    out.insert("finished_at".into(), json!(finishes.to_string()));
    // The real document re-hashes the image it downloaded and reports that digest; the simulated
    // host checked it in `get` (against the hash the world knows, when it knows one).
    out.insert("image_sha256".into(), json!(host.get_sha256("image")));
    out.insert("results".into(), shipped_results);
    out.insert("report".into(), shipped_report);
    Ok(host.done(seconds, out))
}

pub(super) fn analyse_disk(mut host: Host<'_, '_>) -> Result<Outcome, Outcome> {
    let rc = host.rc;
    host.require_outputs(&["bundle", "report"])?;
    let wanted: Vec<String> = rc
        .parameters
        .get("VolumeIds")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if wanted.is_empty() {
        return Err(failed(0.5, 2, "parameter VolumeIds is missing"));
    }
    let mut gib = 0;
    for id in &wanted {
        let Some(v) = rc.attached.iter().find(|v| v.id.as_str() == id) else {
            return Err(failed(
                1.0,
                1,
                format!("evidence volume {id} is not attached to this instance"),
            ));
        };
        gib += v.size_gib;
    }
    let seconds = rc.st.latency.analyse_disk_seconds_per_gib * gib as f64;
    let finishes = plus(&rc.starts_at, seconds);
    let listing = json!({"volumes": wanted, "mount_options": "ro,noload", "files": []});
    let bundle = listing.to_string().into_bytes();
    let shipped_bundle = host.ship("bundle", Some(&bundle), bundle.len() as u64, &finishes)?;
    let mut report = host.header();
    report.insert("volumes".into(), json!(wanted));
    report.insert("bundle".into(), shipped_bundle.clone());
    let report_bytes = format!("{}\n", Value::Object(report)).into_bytes();
    let shipped_report = host.ship(
        "report",
        Some(&report_bytes),
        report_bytes.len() as u64,
        &finishes,
    )?;
    let mut out = host.header();
    out.insert("started_at".into(), json!(rc.starts_at.to_string()));
    out.insert("finished_at".into(), json!(finishes.to_string()));
    out.insert("bundle".into(), shipped_bundle);
    out.insert("report".into(), shipped_report);
    Ok(host.done(seconds, out))
}
