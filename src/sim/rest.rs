//! The RPI server adapter and the service logic of a REST API: a FIFO queue in front of a fixed
//! number of workers per instance (so queueing delay grows under load), endpoint matching
//! (method, path template, body fields), injected errors and slow calls, downstream calls made
//! while holding a worker, and a small resource store (create, read with `?expand=`, update
//! actions, HATEOAS `_links` at level 3).

use super::rpc::{Origin, SyncEvent, SyncPacket};
use super::*;
use crate::message::MessageKind;
use crate::sync::bounds as sb;
use crate::sync::http::{body_matches, match_path, reason_phrase, substitute, substitute_str};
use crate::sync::{Action, ApiSpec, HttpRequest, HttpResponse, ServerBehaviour, ServerMetrics};
use serde_json::{Map, Value};

/// A request at a server instance.
#[derive(Clone, Debug)]
pub(super) struct SReq {
    from: Ep,
    req: u64,
    call: u64,
    dep: u32,
    attempt: u32,
    request: Arc<HttpRequest>,
    arrived_at: SimTime,
    started_at: SimTime,
    endpoint: usize,
    params: BTreeMap<String, Value>,
    downstream: Value,
    error: bool,
}

/// One instance's adapter: requests being handled (by worker) and waiting.
#[derive(Clone, Debug, Default)]
pub(super) struct ServerInst {
    pub(super) queue: VecDeque<SReq>,
    pub(super) active: BTreeMap<u64, SReq>,
}

/// A service's server side: its API, current behaviour per endpoint, instances, resources
/// (shared by the instances: the service's database), behaviour stream and counters.
#[derive(Clone, Debug)]
pub(super) struct Server {
    pub(super) api: Option<Arc<ApiSpec>>,
    pub(super) behaviours: Vec<ServerBehaviour>,
    pub(super) insts: Vec<ServerInst>,
    store: Vec<Collection>,
    rng: SimRng,
    pub(super) metrics: ServerMetrics,
    next_sid: u64,
}

#[derive(Clone, Debug, Default)]
struct Collection {
    items: BTreeMap<u64, Map<String, Value>>,
    next_id: u64,
}

impl Server {
    pub(super) fn new(api: Option<&ApiSpec>, instances: u32, seed: u64, node: u32) -> Server {
        let api = api.cloned().map(Arc::new);
        let store = api
            .as_ref()
            .map(|a| {
                a.collections
                    .iter()
                    .map(|c| {
                        let mut coll = Collection {
                            items: BTreeMap::new(),
                            next_id: 1,
                        };
                        for item in &c.items {
                            if let Value::Object(o) = item {
                                let id =
                                    o.get("id").and_then(Value::as_u64).unwrap_or(coll.next_id);
                                let mut o = o.clone();
                                o.insert("id".into(), Value::from(id));
                                coll.items.insert(id, o);
                                coll.next_id = coll.next_id.max(id.saturating_add(1));
                            }
                        }
                        coll
                    })
                    .collect()
            })
            .unwrap_or_default();
        Server {
            behaviours: api
                .as_ref()
                .map(|a| a.endpoints.iter().map(|e| e.behaviour.clone()).collect())
                .unwrap_or_default(),
            insts: if api.is_some() {
                vec![ServerInst::default(); instances as usize]
            } else {
                Vec::new()
            },
            api,
            store,
            rng: SimRng::new(seed, stream::SERVER_BASE + node as u64),
            metrics: ServerMetrics::default(),
            next_sid: 1,
        }
    }
}

fn id_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl Simulation {
    /// An HTTP request reached a running service instance's adapter.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn server_receive(
        &mut self,
        at: Ep,
        from: Ep,
        req: u64,
        call: u64,
        dep: u32,
        attempt: u32,
        request: Arc<HttpRequest>,
    ) {
        let s = &mut self.sync.servers[at.node as usize];
        let Some(api) = s.api.clone() else {
            let resp = HttpResponse::error(404, "this service has no API");
            self.reply_to(at, from, req, call, dep, attempt, request, resp);
            return;
        };
        s.metrics.requests += 1;
        let sid = s.next_sid;
        s.next_sid += 1;
        let sreq = SReq {
            from,
            req,
            call,
            dep,
            attempt,
            request: Arc::clone(&request),
            arrived_at: self.now,
            started_at: self.now,
            endpoint: 0,
            params: BTreeMap::new(),
            downstream: Value::Null,
            error: false,
        };
        let inst = &mut s.insts[at.instance as usize];
        if (inst.active.len() as u32) < api.workers && inst.queue.is_empty() {
            self.server_start(at, sid, sreq);
        } else if (inst.queue.len() as u32) < api.max_queue {
            inst.queue.push_back(sreq);
            let depth = inst.queue.len() as u32;
            s.metrics.queued += 1;
            s.metrics.max_queue_depth = s.metrics.max_queue_depth.max(depth);
            if self.trace.enabled() {
                let what = TraceKind::ServerQueued {
                    at: self.endpoint(at),
                    req,
                    request,
                    depth,
                };
                self.trace.push(self.now, what);
            }
        } else {
            s.metrics.rejected_overload += 1;
            s.metrics.server_errors += 1;
            if self.trace.enabled() {
                let what = TraceKind::ServerRejected {
                    at: self.endpoint(at),
                    req,
                    status: 503,
                };
                self.trace.push(self.now, what);
            }
            let resp = HttpResponse::error(503, "request queue full");
            self.reply_to(at, from, req, call, dep, attempt, request, resp);
        }
    }

    /// Takes queued requests while workers are free.
    fn server_next(&mut self, at: Ep) {
        loop {
            let s = &mut self.sync.servers[at.node as usize];
            let Some(api) = s.api.as_ref() else {
                return;
            };
            let workers = api.workers;
            let inst = &mut s.insts[at.instance as usize];
            if inst.active.len() as u32 >= workers {
                return;
            }
            let Some(sreq) = inst.queue.pop_front() else {
                return;
            };
            let sid = s.next_sid;
            s.next_sid += 1;
            self.server_start(at, sid, sreq);
        }
    }

    /// The adapter hands a request to the service logic (a worker takes it).
    fn server_start(&mut self, at: Ep, sid: u64, mut sreq: SReq) {
        let now = self.now;
        let s = &mut self.sync.servers[at.node as usize];
        let Some(api) = s.api.clone() else {
            return;
        };
        s.metrics.served += 1;
        let waited = now.as_us().saturating_sub(sreq.arrived_at.as_us());
        s.metrics.queue_wait_us += waited;
        sreq.started_at = now;
        let path = sreq.request.path_only().to_string();
        let found = api.endpoints.iter().enumerate().find_map(|(i, e)| {
            if e.method != sreq.request.method || !body_matches(&e.body_match, &sreq.request.body) {
                return None;
            }
            match_path(&e.path, &path).map(|p| (i, p))
        });
        let operation: Arc<str> = match &found {
            Some((i, _)) => {
                let e = &api.endpoints[*i];
                if e.name.is_empty() {
                    Arc::from(format!("{} {}", e.method, e.path).as_str())
                } else {
                    Arc::from(e.name.as_str())
                }
            }
            None => Arc::from("-"),
        };
        if self.trace.enabled() {
            let what = TraceKind::ServerStart {
                at: self.endpoint(at),
                req: sreq.req,
                request: Arc::clone(&sreq.request),
                operation,
                waited_us: waited,
            };
            self.trace.push(now, what);
        }
        let Some((e, params)) = found else {
            let allowed = api
                .endpoints
                .iter()
                .any(|e| match_path(&e.path, &path).is_some());
            let resp = if allowed {
                HttpResponse::error(
                    405,
                    format!("{} is not allowed on {path}", sreq.request.method),
                )
            } else {
                HttpResponse::error(404, format!("no resource at {path}"))
            };
            self.server_respond(at, &sreq, resp);
            return;
        };
        sreq.endpoint = e;
        sreq.params = params
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let has_downstream = !api.endpoints[e].downstream.is_empty();
        self.sync.servers[at.node as usize].insts[at.instance as usize]
            .active
            .insert(sid, sreq);
        if has_downstream {
            self.handler_call(at, sid, 0);
        } else {
            self.service_time(at, sid);
        }
    }

    /// The service logic calls downstream call `index` of its endpoint through its own proxy.
    fn handler_call(&mut self, at: Ep, sid: u64, index: u32) {
        let s = &self.sync.servers[at.node as usize];
        let (Some(api), Some(sreq)) = (
            s.api.clone(),
            s.insts[at.instance as usize].active.get(&sid),
        ) else {
            return;
        };
        let Some(ds) = api.endpoints[sreq.endpoint].downstream.get(index as usize) else {
            return;
        };
        let to = self.node_id(&ds.to).unwrap_or(0);
        let Some(&dep) = self.sync.dep_index.get(&(at.node, to)) else {
            return;
        };
        let request = HttpRequest {
            method: ds.method,
            path: substitute_str(&ds.path, &sreq.params),
            body: substitute(&ds.body, &sreq.params),
        };
        let operation: Arc<str> = if ds.name.is_empty() {
            Arc::from(format!("{} {}", ds.method, ds.path).as_str())
        } else {
            Arc::from(ds.name.as_str())
        };
        let origin = Origin::Handler {
            node: at.node,
            instance: at.instance,
            sid,
            index,
        };
        if self
            .call_begin(at, dep, operation, request, origin)
            .is_none()
        {
            self.handler_downstream_done(at, sid, index, Err(None));
        }
    }

    /// A downstream call of a handler ended: next call, the service time, or 500 at once.
    pub(super) fn handler_downstream_done(
        &mut self,
        at: Ep,
        sid: u64,
        index: u32,
        result: Result<Option<Arc<HttpResponse>>, Option<Arc<str>>>,
    ) {
        let s = &mut self.sync.servers[at.node as usize];
        let Some(api) = s.api.clone() else {
            return;
        };
        let Some(sreq) = s
            .insts
            .get_mut(at.instance as usize)
            .and_then(|i| i.active.get_mut(&sid))
        else {
            return;
        };
        let downstream = &api.endpoints[sreq.endpoint].downstream;
        let to = downstream
            .get(index as usize)
            .map(|d| d.to.clone())
            .unwrap_or_default();
        match result {
            Ok(resp) => {
                sreq.downstream = resp.map(|r| r.body.clone()).unwrap_or(Value::Null);
                if (index as usize + 1) < downstream.len() {
                    self.handler_call(at, sid, index + 1);
                } else {
                    self.service_time(at, sid);
                }
            }
            Err(kind) => {
                let Some(sreq) = self.sync.servers[at.node as usize].insts[at.instance as usize]
                    .active
                    .remove(&sid)
                else {
                    return;
                };
                let resp = HttpResponse::error(
                    500,
                    format!(
                        "downstream {to} failed: {}",
                        kind.as_deref().unwrap_or("overloaded")
                    ),
                );
                self.server_respond(at, &sreq, resp);
                self.server_next(at);
            }
        }
    }

    /// Draws the request's fate (error? slow?) and service time, holding its worker.
    fn service_time(&mut self, at: Ep, sid: u64) {
        let incarnation = self.inst(at).incarnation;
        let s = &mut self.sync.servers[at.node as usize];
        let Some(sreq) = s.insts[at.instance as usize].active.get_mut(&sid) else {
            return;
        };
        let b = &s.behaviours[sreq.endpoint];
        let error = s.rng.chance_percent(b.error_percent);
        let slow = s.rng.chance_percent(b.slow_percent);
        let us = if slow {
            crate::time::ms_to_us(b.slow_latency_ms)
        } else {
            s.rng.jittered_ms(b.latency_ms, b.jitter_ms)
        };
        sreq.error = error;
        if slow {
            s.metrics.slow += 1;
        }
        self.schedule(
            self.now.plus_us(us),
            Event::Sync(SyncEvent::ServeDone {
                node: at.node,
                instance: at.instance,
                incarnation,
                sid,
            }),
        );
    }

    /// The service time is over: the logic's answer (or the injected error) goes back.
    pub(super) fn serve_done(&mut self, at: Ep, sid: u64) {
        let s = &mut self.sync.servers[at.node as usize];
        let Some(sreq) = s.insts[at.instance as usize].active.remove(&sid) else {
            return;
        };
        let resp = if sreq.error {
            s.metrics.injected_errors += 1;
            let status = s.behaviours[sreq.endpoint].error_status;
            HttpResponse::error(status, "injected failure")
        } else {
            self.service_logic(at.node, &sreq)
        };
        self.server_respond(at, &sreq, resp);
        self.server_next(at);
    }

    fn server_respond(&mut self, at: Ep, sreq: &SReq, resp: HttpResponse) {
        let m = &mut self.sync.servers[at.node as usize].metrics;
        match resp.status {
            400..=499 => m.client_errors += 1,
            500.. => m.server_errors += 1,
            _ => m.ok += 1,
        }
        if self.trace.enabled() {
            let what = TraceKind::ServerReply {
                at: self.endpoint(at),
                req: sreq.req,
                status: resp.status,
                elapsed_us: self.now.as_us().saturating_sub(sreq.started_at.as_us()),
            };
            self.trace.push(self.now, what);
        }
        self.reply_to(
            at,
            sreq.from,
            sreq.req,
            sreq.call,
            sreq.dep,
            sreq.attempt,
            Arc::clone(&sreq.request),
            resp,
        );
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn reply_to(
        &mut self,
        at: Ep,
        to: Ep,
        req: u64,
        call: u64,
        dep: u32,
        attempt: u32,
        request: Arc<HttpRequest>,
        resp: HttpResponse,
    ) {
        let channel = self.nodes[at.node as usize].name.to_string();
        let msg = self.sync_msg(
            MessageKind::Reply,
            format!("{} {}", resp.status, reason_phrase(resp.status)),
            &channel,
            resp.body.clone(),
        );
        self.send(
            at,
            to,
            Packet::Sync(SyncPacket::Response {
                msg,
                req,
                call,
                dep,
                attempt,
                request,
                http: Arc::new(resp),
            }),
        );
    }

    /// The service logic of an endpoint: static answer or an operation on a collection.
    fn service_logic(&mut self, node: u32, sreq: &SReq) -> HttpResponse {
        let s = &mut self.sync.servers[node as usize];
        let Some(api) = s.api.clone() else {
            return HttpResponse::error(404, "no API");
        };
        let e = &api.endpoints[sreq.endpoint];
        let resp = match e.action {
            Action::Static => {
                let mut vars = sreq.params.clone();
                vars.insert("downstream".into(), sreq.downstream.clone());
                HttpResponse {
                    status: e.status.unwrap_or(200),
                    body: substitute(&e.body, &vars),
                }
            }
            Action::Create | Action::Read | Action::Update => {
                let cname = e.collection.clone().unwrap_or_default();
                let Some(c) = api.collections.iter().position(|x| x.name == cname) else {
                    return HttpResponse::error(500, "unknown collection");
                };
                let id = match &e.id_field {
                    Some(f) => sreq.request.body.get(f).and_then(id_of),
                    None => sreq.params.get("id").and_then(id_of),
                };
                let expand: Vec<String> = sreq
                    .request
                    .query()
                    .into_iter()
                    .filter(|(k, _)| *k == "expand")
                    .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
                    .collect();
                let singular = cname.strip_suffix('s').unwrap_or(&cname).to_string();
                match e.action {
                    Action::Create => {
                        let coll = &mut s.store[c];
                        if coll.items.len() >= sb::MAX_COLLECTION_ITEMS {
                            return HttpResponse::error(507, format!("{cname} is full"));
                        }
                        let mut item = match &sreq.request.body {
                            Value::Object(o) => o.clone(),
                            _ => Map::new(),
                        };
                        for k in e.body_match.keys() {
                            item.remove(k);
                        }
                        for (k, v) in &e.set {
                            item.insert(k.clone(), v.clone());
                        }
                        let id = coll.next_id;
                        coll.next_id += 1;
                        item.insert("id".into(), Value::from(id));
                        coll.items.insert(id, item);
                        HttpResponse {
                            status: e.status.unwrap_or(201),
                            body: represent(&api, &s.store, c, id, &expand),
                        }
                    }
                    Action::Read => match id.filter(|i| s.store[c].items.contains_key(i)) {
                        Some(id) => HttpResponse {
                            status: e.status.unwrap_or(200),
                            body: represent(&api, &s.store, c, id, &expand),
                        },
                        None => HttpResponse::error(
                            404,
                            format!("{singular} {} not found", id.unwrap_or(0)),
                        ),
                    },
                    _ => {
                        let Some((id, item)) =
                            id.and_then(|i| s.store[c].items.get_mut(&i).map(|x| (i, x)))
                        else {
                            return in_body(
                                e.errors_in_body,
                                HttpResponse::error(404, format!("{singular} not found")),
                            );
                        };
                        let unmet: Vec<String> = e
                            .require
                            .iter()
                            .filter(|(k, v)| item.get(*k) != Some(v))
                            .map(|(k, v)| {
                                format!(
                                    "{k} is {}, needs {v}",
                                    item.get(k).cloned().unwrap_or(Value::Null)
                                )
                            })
                            .collect();
                        if !unmet.is_empty() {
                            HttpResponse::error(
                                409,
                                format!("{singular} {id}: {}", unmet.join("; ")),
                            )
                        } else {
                            for (k, v) in &e.set {
                                item.insert(k.clone(), v.clone());
                            }
                            HttpResponse {
                                status: e.status.unwrap_or(200),
                                body: represent(&api, &s.store, c, id, &expand),
                            }
                        }
                    }
                }
            }
        };
        in_body(e.errors_in_body, resp)
    }

    pub(super) fn server_crash(&mut self, ep: Ep) {
        if let Some(i) = self.sync.servers[ep.node as usize]
            .insts
            .get_mut(ep.instance as usize)
        {
            i.queue.clear();
            i.active.clear();
        }
    }
}

/// Level 0/1 style: an error status becomes `200 OK` with the error in the body.
fn in_body(errors_in_body: bool, r: HttpResponse) -> HttpResponse {
    if errors_in_body && (400..500).contains(&r.status) {
        HttpResponse {
            status: 200,
            body: r.body,
        }
    } else {
        r
    }
}

/// The representation of resource `id` of collection `c`: its fields, `?expand=` relations
/// embedded, and at level 3 `_links` (`self`, the collection's links whose `when` holds, and
/// one per relation).
fn represent(api: &ApiSpec, store: &[Collection], c: usize, id: u64, expand: &[String]) -> Value {
    let spec = &api.collections[c];
    let Some(item) = store[c].items.get(&id) else {
        return Value::Null;
    };
    let mut obj = item.clone();
    for r in &spec.relations {
        if expand.iter().any(|x| x == &r.name) {
            let rc = api.collections.iter().position(|x| x.name == r.collection);
            let related = match (rc, item.get(&r.field).and_then(id_of)) {
                (Some(rc), Some(rid)) => store[rc]
                    .items
                    .get(&rid)
                    .map(|o| Value::Object(o.clone()))
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            };
            obj.insert(r.name.clone(), related);
        }
    }
    if api.level >= 3 {
        let vars: BTreeMap<String, Value> =
            item.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut links = Map::new();
        let href = |h: String| serde_json::json!({ "href": h });
        links.insert("self".into(), href(format!("/{}/{id}", spec.name)));
        for l in &spec.links {
            if l.when.iter().all(|(k, v)| item.get(k) == Some(v)) {
                links.insert(l.rel.clone(), href(substitute_str(&l.href, &vars)));
            }
        }
        for r in &spec.relations {
            if let Some(v) = item.get(&r.field).and_then(id_of) {
                links.insert(r.name.clone(), href(format!("/{}/{v}", r.collection)));
            }
        }
        obj.insert("_links".into(), Value::Object(links));
    }
    Value::Object(obj)
}
