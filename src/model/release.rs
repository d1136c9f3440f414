//! `--fits-release`: several workloads placed together, in an order no one
//! can know in advance (the controllers create their pods as they will, and
//! the scheduler takes them in queue order). Each workload's answer alone is
//! known (the most and the least of its own replicas that land over the
//! cluster as it is); this module says how the others' pods can move it:
//!
//! - they can only take room from it (resources, pod slots), unless they
//!   help it (its pod affinity matches them, or its spread counts them):
//!   then its most is what it asks;
//! - a pod of another workload lowers a node's room for it by at most
//!   `d` replicas (per resource it asks, the other's request over its own,
//!   rounded up; a pod slot is 1), so where its answer is the sum of its
//!   nodes' room, its least falls by at most `d` times the other's most;
//!   where it is one a node, by at most one node a pod;
//! - a pod whose anti-affinity (or ours) matches by hostname, or that binds
//!   the same host port, closes the node it lands on;
//! - where the others' pods can block it over a wider domain (anti-affinity
//!   by zone, a spread that counts them), may preempt it (a priority), or
//!   its own constraints tie its nodes together, nothing short of the
//!   scheduler's order is known: its least is 0.
//!
//! Each workload's landing is then a range, and the release lands in every
//! order only where every least reaches what it asks. Pure.

use std::collections::BTreeMap;

/// How a workload's answer alone is made up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alone {
    /// The sum of each node's room (resources, slots, fixed filters).
    Additive,
    /// One a node (a DaemonSet, a host port, anti-affinity to its own by
    /// hostname), no other tie between nodes.
    OneANode,
    /// One spread constraint it counts toward, over this many domains, and
    /// no other tie: water-filling over the domains' room. Room taken in a
    /// domain lowers that domain's end and the level every domain fills to
    /// by at most as much, so Δ taken anywhere lowers the total by at most
    /// (1 + domains) · Δ.
    Spread(u64),
    /// Its constraints tie nodes together otherwise (several spreads,
    /// anti-affinity over a wider domain, affinity to its own kind).
    Tied,
}

/// One workload of the release, with its answer alone.
#[derive(Clone, Debug)]
pub struct Workload {
    /// `Kind/namespace/name`.
    pub name: String,
    pub asked: u64,
    /// Alone: the least and the most of its replicas that land.
    pub least: u64,
    pub most: u64,
    /// Preemption could place more than `most`.
    pub may_place_more: bool,
    pub alone: Alone,
    /// By resource, as a shape's (cpu in millicores, the rest whole units).
    pub requests: Vec<(String, i64)>,
    /// The nodes it has room on alone, a bit a node (bit i: node i):
    /// others compete for those.
    pub nodes: Vec<u64>,
    /// How many each node takes of it alone, as (room, nodes with that
    /// room), the most first (nodes with none left out).
    pub rooms: Vec<(u64, u64)>,
    /// Per dimension its room is counted in (pod slots, `pods`, then each
    /// resource it requests): over the nodes it has room on, (room, slack,
    /// nodes with both), the slack being how many more that dimension alone
    /// would admit. Empty: not known (the room taken is then bounded pod
    /// by pod).
    pub slack: Vec<Slack>,
}

/// One dimension of a workload's room: its name, and (room, slack, nodes)
/// over the nodes it has room on.
pub type Slack = (String, Vec<(u64, u64, u64)>);

/// Node indices as a bit set ([`Workload::nodes`]).
pub fn bits(indices: impl IntoIterator<Item = usize>) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for i in indices {
        if out.len() <= i / 64 {
            out.resize(i / 64 + 1, 0);
        }
        out[i / 64] |= 1 << (i % 64);
    }
    out
}

/// Equal values counted, the largest first ([`Workload::rooms`], and
/// `slack`'s pairs): memory by kinds of node, not by nodes.
pub fn counted<T: Ord + Copy>(values: impl IntoIterator<Item = T>) -> Vec<(T, u64)> {
    let mut by: BTreeMap<T, u64> = BTreeMap::new();
    for v in values {
        *by.entry(v).or_default() += 1;
    }
    by.into_iter().rev().collect()
}

impl Workload {
    /// How much of `x`'s one pod takes of a dimension, in this workload's
    /// units (rounded up): a slot; a resource it requests, its share.
    fn units(&self, dim: &str, x: &[(String, i64)]) -> u64 {
        if dim == "pods" {
            return 1;
        }
        let want = self.requests.iter().find(|(n, _)| n == dim).map_or(0, |(_, q)| *q);
        let taken = x.iter().find(|(n, _)| n == dim).map_or(0, |(_, q)| *q).max(0) as u64;
        if want <= 0 { 0 } else { taken.div_ceil(want as u64) }
    }

    /// At most how much room others take when they bring `units` of each
    /// dimension (aligned with `slack`). A node loses room in a dimension
    /// only past its slack there, and at most its room: the most `u` units
    /// can take is a fractional knapsack over the nodes (each costs its
    /// room plus its slack for its room; spreading a node's slack over its
    /// room only overstates what partial use takes), summed over the
    /// dimensions (a node's loss is the largest of its dimensions').
    fn slack_bound(&self, units: &[u64]) -> Option<u64> {
        if self.slack.is_empty() {
            return None;
        }
        let mut total: u128 = 0;
        for ((_, nodes), &u) in self.slack.iter().zip(units) {
            let mut items: Vec<(u64, u64, u64)> = nodes.iter().copied().filter(|(room, _, _)| *room > 0).collect();
            // The cheapest room first: the least slack per unit of room.
            items.sort_by(|a, b| (u128::from(a.1) * u128::from(b.0)).cmp(&(u128::from(b.1) * u128::from(a.0))));
            let mut left = u128::from(u);
            for (room, slack, count) in items {
                if left == 0 {
                    break;
                }
                let cost = u128::from(room) + u128::from(slack);
                // Whole nodes of this kind, then part of one.
                let whole = (left / cost).min(u128::from(count));
                total += whole * u128::from(room);
                left -= whole * cost;
                if whole < u128::from(count) && left > 0 {
                    total += (left * u128::from(room)).div_ceil(cost);
                    left = 0;
                }
            }
        }
        Some(u64::try_from(total).unwrap_or(u64::MAX))
    }
}

/// What one workload's pods can do to another's beyond taking room.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Relation {
    /// They can let more of it land (its affinity, its spread counts them).
    pub helps: bool,
    /// They can keep it off nodes outright.
    pub blocks: Option<Block>,
}

/// How far one pod's block reaches, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Only the node it lands on (anti-affinity by hostname, a host port).
    pub node_only: bool,
    pub why: String,
}

/// How many of a workload land, over every order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Landing {
    pub asked: u64,
    pub least: u64,
    pub most: u64,
    /// Why fewer than asked can land.
    pub why: Vec<String>,
}

/// The release's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every workload lands whole in every order.
    Lands,
    /// Some workload strands replicas in every order: which.
    Strands(Vec<String>),
    /// Whether they land depends on the order: which.
    Depends(Vec<String>),
}

/// At most how many replicas of `w` one pod of `x` takes a node's room for.
pub fn displaces(x: &[(String, i64)], w: &[(String, i64)]) -> u64 {
    let mut d: u64 = 1; // a pod slot
    for (r, want) in w.iter().filter(|(_, q)| *q > 0) {
        let taken = x.iter().find(|(n, _)| n == r).map_or(0, |(_, q)| *q).max(0);
        d = d.max((taken as u64).div_ceil(*want as u64));
    }
    d
}

/// Each workload's landing (aligned with `ws`), given what each one's pods
/// can do to another's (`relation(x, w)`: x's pods on w).
pub fn land(ws: &[Workload], relation: impl Fn(usize, usize) -> Relation) -> Vec<Landing> {
    let n = ws.len();
    // Each workload's nodes as a bit set: whether two share a node is a
    // few words, not a search (hundreds of owners over thousands of nodes).
    let share = |a: usize, b: usize| ws[a].nodes.iter().zip(&ws[b].nodes).any(|(x, y)| x & y != 0);
    let relations: Vec<Vec<Relation>> =
        (0..n).map(|x| (0..n).map(|w| if x == w { Relation::default() } else { relation(x, w) }).collect()).collect();
    // The most of each: what it asks where others can help or preemption
    // could place more; else its answer alone (others only take room).
    let most: Vec<u64> = (0..n)
        .map(|w| {
            let helped = (0..n).any(|x| relations[x][w].helps);
            if helped || ws[w].may_place_more { ws[w].asked } else { ws[w].asked.min(ws[w].most) }
        })
        .collect();
    (0..n)
        .map(|w| {
            let me = &ws[w];
            let mut why = Vec::new();
            if me.most < me.asked && !me.may_place_more {
                why.push(format!("{} more fit alone", me.most));
            }
            // What each other workload's pods can take from it at most
            // (None: anything), and why.
            let mut loss: Option<u64> = Some(0);
            // Pods of others that each close the node they land on: they
            // close at most that many nodes, the roomiest at worst.
            let mut closing: u64 = 0;
            let mut reasons: Vec<String> = Vec::new();
            // Those that only take room, named together.
            let mut takers: Vec<&str> = Vec::new();
            // What those bring, per dimension of its room.
            let mut brought: Vec<u64> = vec![0; me.slack.len()];
            let mut additive: u64 = 0;
            for x in (0..n).filter(|&x| x != w && most[x] > 0) {
                // A helped workload lands where its answer alone had no
                // room (its affinity met by the others' pods): anywhere.
                let helped = (0..n).any(|y| relations[y][x].helps);
                let shares = helped || share(x, w);
                if ws[x].may_place_more {
                    // Its pods may preempt ours (a higher priority).
                    reasons.push(format!("{} may preempt its pods", ws[x].name));
                    loss = None;
                    continue;
                }
                let per_pod = match (&relations[x][w].blocks, me.alone) {
                    // A pod closes the node it lands on: counted below.
                    (Some(b), Alone::Additive | Alone::OneANode | Alone::Spread(_)) if b.node_only => {
                        closing += most[x];
                        reasons.push(b.why.clone());
                        continue;
                    }
                    (Some(_), _) => None,
                    (None, _) if !shares => Some(0),
                    (None, Alone::Additive | Alone::Spread(_)) => Some(displaces(&ws[x].requests, &me.requests)),
                    (None, Alone::OneANode) => Some(1),
                    (None, Alone::Tied) => None,
                };
                if per_pod != Some(0) {
                    match &relations[x][w].blocks {
                        Some(b) => reasons.push(b.why.clone()),
                        None => takers.push(&ws[x].name),
                    }
                }
                if relations[x][w].blocks.is_none() && matches!(me.alone, Alone::Additive | Alone::Spread(_)) {
                    if let Some(p) = per_pod {
                        additive += most[x] * p;
                    }
                    if per_pod != Some(0) {
                        for ((dim, _), b) in me.slack.iter().zip(brought.iter_mut()) {
                            *b += most[x] * me.units(dim, &ws[x].requests);
                        }
                    }
                    continue;
                }
                loss = loss.zip(per_pod).map(|(l, p)| l + most[x] * p);
            }
            reasons.extend(room_taken(&takers));
            // Room taken: pod by pod, or past each node's slack, the less.
            let taken_room = me.slack_bound(&brought).map_or(additive, |s| s.min(additive));
            loss = loss.map(|l| l + taken_room);
            // The roomiest `closing` nodes' room.
            let mut closed: u64 = 0;
            let mut left = closing;
            for &(room, count) in &me.rooms {
                let k = count.min(left);
                closed += room * k;
                left -= k;
                if left == 0 {
                    break;
                }
            }
            let taken = loss.map(|l| match me.alone {
                Alone::Spread(domains) => (l + closed).saturating_mul(1 + domains),
                _ => l + closed,
            });
            let least = taken.map_or(0, |t| me.least.saturating_sub(t));
            if least < me.asked.min(me.least) {
                why.extend(reasons);
            }
            let most = most[w];
            Landing { asked: me.asked, least: least.min(me.asked).min(most), most, why }
        })
        .collect()
}

/// Why room is short, naming the workloads that take it: each when a few,
/// else the first three and how many more.
fn room_taken(takers: &[&str]) -> Vec<String> {
    match takers.len() {
        0..=3 => takers.iter().map(|t| format!("room taken by {t} on the same nodes")).collect(),
        n => vec![format!("room taken by {} and {} more workloads on the same nodes", takers[..3].join(", "), n - 3)],
    }
}

/// Whether the release lands, from each workload's landing.
pub fn verdict(ws: &[Workload], landings: &[Landing]) -> Verdict {
    let named = |f: &dyn Fn(&Landing) -> bool| -> Vec<String> {
        ws.iter().zip(landings).filter(|(_, l)| f(l)).map(|(w, _)| w.name.clone()).collect()
    };
    let stranded = named(&|l| l.most < l.asked);
    if !stranded.is_empty() {
        return Verdict::Strands(stranded);
    }
    let depends = named(&|l| l.least < l.asked);
    if depends.is_empty() { Verdict::Lands } else { Verdict::Depends(depends) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn w(name: &str, asked: u64, cpu: i64, alone: Alone) -> Workload {
        Workload {
            name: name.into(),
            asked,
            least: 0,
            most: 0,
            may_place_more: false,
            alone,
            requests: vec![("cpu".into(), cpu)],
            nodes: vec![],
            rooms: vec![],
            slack: vec![],
        }
    }

    #[test]
    fn one_pod_of_another_displaces_its_requests_over_ours_rounded_up() {
        let cpu = |m: i64| vec![("cpu".to_string(), m)];
        assert_eq!(displaces(&cpu(1000), &cpu(250)), 4);
        assert_eq!(displaces(&cpu(300), &cpu(250)), 2);
        assert_eq!(displaces(&cpu(100), &cpu(250)), 1, "a pod slot at least");
        assert_eq!(displaces(&[("memory".into(), 1 << 30)], &cpu(250)), 1, "memory it does not ask");
    }

    /// Nodes of cpu and pod slots; workloads of a cpu request each; the
    /// pods of all in a random order, each to a random node with room (the
    /// scheduler's order and ties, as any of them could be).
    /// `spread`: the first workload spreads over `zone` (maxSkew 1).
    fn simulate(
        rng: &mut Rng,
        cpu: &[i64],
        slots: &[u64],
        ws: &[(u64, i64)],
        zone: &[usize],
        spread: bool,
    ) -> Vec<u64> {
        let mut free: Vec<(i64, u64)> = cpu.iter().copied().zip(slots.iter().copied()).collect();
        let zones: Vec<usize> = (0..3).filter(|z| zone.contains(z)).collect();
        let mut in_zone = [0u64; 3];
        let mut pods: Vec<usize> =
            ws.iter().enumerate().flat_map(|(i, (n, _))| std::iter::repeat_n(i, *n as usize)).collect();
        for k in (1..pods.len()).rev() {
            pods.swap(k, rng.below(k as u64 + 1) as usize);
        }
        let mut landed = vec![0; ws.len()];
        for p in pods {
            let want = ws[p].1;
            let min = zones.iter().map(|z| in_zone[*z]).min().unwrap_or(0);
            let skewed = |i: usize| spread && p == 0 && in_zone[zone[i]] + 1 > min + 1;
            let room: Vec<usize> =
                (0..free.len()).filter(|&i| free[i].0 >= want && free[i].1 > 0 && !skewed(i)).collect();
            if room.is_empty() {
                continue;
            }
            let i = room[rng.below(room.len() as u64) as usize];
            free[i].0 -= want;
            free[i].1 -= 1;
            landed[p] += 1;
            if p == 0 {
                in_zone[zone[i]] += 1;
            }
        }
        landed
    }

    #[test]
    fn every_order_of_workloads_that_only_share_room_lands_within_the_range() {
        let mut rng = Rng(0x5e1ea5e);
        let (mut sure, mut ranged) = (0, 0);
        for _ in 0..500 {
            let nodes = 1 + rng.below(5) as usize;
            let cpu: Vec<i64> = (0..nodes).map(|_| [1000, 2000, 4000][rng.below(3) as usize]).collect();
            let slots: Vec<u64> = (0..nodes).map(|_| 1 + rng.below(8)).collect();
            let asks: Vec<(u64, i64)> =
                (0..1 + rng.below(3)).map(|_| (rng.below(8), [100, 250, 500, 1000][rng.below(4) as usize])).collect();
            let zone: Vec<usize> = (0..nodes).map(|_| rng.below(3) as usize).collect();
            let spread = rng.below(2) == 0;
            // Half the cases know each node's slack.
            let slacked = rng.below(2) == 0;
            let ws: Vec<Workload> = asks
                .iter()
                .enumerate()
                .map(|(i, (n, c))| {
                    let room: Vec<u64> = (0..nodes).map(|j| ((cpu[j] / c) as u64).min(slots[j])).collect();
                    let mut alone: u64 = room.iter().sum();
                    let mut kind = Alone::Additive;
                    if spread && i == 0 {
                        // Water-filling over the zones' room (maxSkew 1, nothing there).
                        let caps: Vec<u64> = (0..3)
                            .filter(|z| zone.contains(z))
                            .map(|z| (0..nodes).filter(|&j| zone[j] == z).map(|j| room[j]).sum())
                            .collect();
                        let level = caps.iter().copied().min().unwrap_or(0);
                        alone = caps.iter().map(|c| (*c).min(level + 1)).sum();
                        kind = Alone::Spread(caps.len() as u64);
                    }
                    Workload {
                        least: alone,
                        most: alone,
                        nodes: bits((0..nodes).filter(|&j| room[j] > 0)),
                        rooms: counted(room.iter().copied().filter(|r| *r > 0)),
                        slack: if slacked {
                            let of = |alone: &dyn Fn(usize) -> u64| -> Vec<(u64, u64, u64)> {
                                let pairs = (0..nodes).filter(|&j| room[j] > 0).map(|j| (room[j], alone(j) - room[j]));
                                counted(pairs).into_iter().map(|((r, s), n)| (r, s, n)).collect()
                            };
                            vec![
                                ("pods".to_string(), of(&|j| slots[j])),
                                ("cpu".to_string(), of(&|j| (cpu[j] / c) as u64)),
                            ]
                        } else {
                            vec![]
                        },
                        ..w(&format!("w{i}"), *n, *c, kind)
                    }
                })
                .collect();
            let landings = land(&ws, |_, _| Relation::default());
            for _ in 0..30 {
                let got = simulate(&mut rng, &cpu, &slots, &asks, &zone, spread);
                for (g, l) in got.iter().zip(&landings) {
                    assert!(l.least <= *g && *g <= l.most, "{g} outside {l:?} for {asks:?} on {cpu:?} {slots:?}");
                }
            }
            if landings.iter().all(|l| l.least == l.most) { sure += 1 } else { ranged += 1 }
        }
        assert!(sure > 100 && ranged > 50, "{sure} sure, {ranged} ranges: the generator must reach both");
        eprintln!("{sure} sure, {ranged} ranges");
    }

    #[test]
    fn room_taken_past_each_nodes_slack() {
        // Three nodes of 2 slots and 8 cpus; ours asks 1 cpu: room 2 each,
        // cpu slack 6. Another's 4 pods of 1 cpu take a slot each (4 of
        // our room) but, pod by pod, 1 each too: the same 4.
        let mut me = w("ours", 6, 1000, Alone::Additive);
        (me.least, me.most, me.nodes, me.rooms) = (6, 6, bits(0..3), vec![(2, 3)]);
        me.slack = vec![("pods".into(), vec![(2, 0, 3)]), ("cpu".into(), vec![(2, 6, 3)])];
        assert_eq!(me.slack_bound(&[4, 4]), Some(4 + 1), "slots: 4; cpu: 4 units past 8 of slack per 2 of room");
        // Pods of 4 cpus: 4 units each pod by pod; with the slack, 2 pods
        // take 2 slots and 8 cpus, which cost 2 of room.
        assert_eq!(displaces(&[("cpu".into(), 4000)], &me.requests), 4);
        assert_eq!(me.slack_bound(&[2, 8]), Some(2 + 2));
        let mut big = w("big", 2, 4000, Alone::Additive);
        (big.least, big.most, big.nodes, big.rooms) = (6, 6, bits(0..3), vec![(2, 3)]);
        let l = land(&[me.clone(), big.clone()], |_, _| Relation::default());
        assert_eq!(l[0].least, 2, "6 - min(pod by pod 8, past slack 4)");
        // Unknown slack: pod by pod.
        me.slack.clear();
        let l = land(&[me, big], |_, _| Relation::default());
        assert_eq!(l[0].least, 0);
    }

    #[test]
    fn blocked_helped_and_the_verdict() {
        let mut front = w("Deployment/shop/front", 5, 100, Alone::OneANode);
        (front.least, front.most, front.nodes, front.rooms) = (7, 7, bits(0..7), vec![(1, 7)]);
        let mut back = w("Deployment/shop/back", 3, 100, Alone::OneANode);
        (back.least, back.most, back.nodes, back.rooms) = (7, 7, bits(0..7), vec![(1, 7)]);
        let ws = [front, back];
        // back's anti-affinity to front: front's pods block back; back's
        // pods take one node each from front.
        let block = |why: &str| Some(Block { node_only: true, why: why.into() });
        let l = land(&ws, |x, w| Relation {
            blocks: if x == 0 && w == 1 {
                block("its anti-affinity matches Deployment/shop/front's pods")
            } else {
                block("Deployment/shop/back's anti-affinity matches its pods")
            },
            ..Default::default()
        });
        // Each pod of the other closes one node of the 7: 7 - 3 and 7 - 5.
        assert_eq!((l[0].least, l[0].most), (4, 5));
        assert_eq!((l[1].least, l[1].most), (2, 3));
        // Additive: a pod closes one node, the roomiest at worst: 4 nodes
        // of 10, 3, 2, 1; 3 of front's close 10 + 3 + 2.
        let mut roomy = ws.clone();
        roomy[1].alone = Alone::Additive;
        (roomy[1].least, roomy[1].most, roomy[1].rooms) = (16, 16, counted([10, 3, 2, 1]));
        roomy[0].asked = 3;
        let l = land(&roomy, |x, w| Relation {
            blocks: (x == 0 && w == 1).then(|| Block { node_only: true, why: "by hostname".into() }),
            ..Default::default()
        });
        assert_eq!((l[1].least, l[1].most), (1, 3));
        // By zone, a pod's block reaches past its node: nothing is sure.
        let l = land(&ws, |x, w| Relation {
            blocks: (x == 0 && w == 1).then(|| Block { node_only: false, why: "by zone".into() }),
            ..Default::default()
        });
        assert_eq!((l[1].least, l[1].most), (0, 3));
        assert_eq!(l[1].why, ["by zone"]);
        assert_eq!(
            verdict(&ws, &l),
            Verdict::Depends(vec!["Deployment/shop/front".into(), "Deployment/shop/back".into()])
        );
        // Asking for more than fits alone strands in every order.
        let mut big = ws.clone();
        big[1].asked = 9;
        let l = land(&big, |_, _| Relation::default());
        assert_eq!(verdict(&big, &l), Verdict::Strands(vec!["Deployment/shop/back".into()]));
        assert!(l[1].why[0].starts_with("7 more fit alone"), "{:?}", l[1].why);
        // One that may preempt: nothing of the others is sure.
        let mut preempting = ws.clone();
        preempting[0].may_place_more = true;
        let l = land(&preempting, |_, _| Relation::default());
        assert_eq!((l[1].least, l[1].most), (0, 3));
        assert_eq!(l[1].why, ["Deployment/shop/front may preempt its pods"]);
        // A helped workload's pods land on nodes its answer alone lacks:
        // they take room there too.
        let mut near = ws.clone();
        near[0].alone = Alone::Additive;
        (near[0].least, near[0].most, near[0].rooms) = (7, 7, vec![(1, 7)]);
        near[1].nodes = vec![];
        let l = land(&near, |x, w| Relation { helps: x == 0 && w == 1, ..Default::default() });
        assert_eq!((l[0].least, l[0].most), (4, 5), "back's 3 may take 3 of front's nodes");
        // Affinity to the other: its most is what it asks.
        let mut helped = ws.clone();
        helped[1].most = 0;
        let l = land(&helped, |x, w| Relation { helps: x == 0 && w == 1, ..Default::default() });
        assert_eq!(l[1].most, 3);
    }
}
