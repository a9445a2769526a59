//! Measuring: latencies of concurrent and sequential clients, the CPU the server and
//! PostgreSQL used, load average and peak memory.

use super::*;

/// Latencies (sorted) and the wall time they took.
pub(crate) struct Stats {
    pub(crate) wall: Duration,
    pub(crate) lat: Vec<Duration>,
    /// Rows the question answered (lists only).
    pub(crate) rows: Option<usize>,
    /// Share of the machine's CPU time that other processes used meanwhile.
    pub(crate) others: f64,
}

impl Stats {
    pub(crate) fn new(
        wall: Duration,
        mut lat: Vec<Duration>,
        rows: Option<usize>,
        before: Cpu,
    ) -> Stats {
        lat.sort();
        let others = Cpu::now().others_since(&before);
        Stats {
            wall,
            lat,
            rows,
            others,
        }
    }
    pub(crate) fn rate(&self) -> f64 {
        self.lat.len() as f64 / self.wall.as_secs_f64()
    }
    pub(crate) fn ms(&self, q: f64) -> f64 {
        let i = ((self.lat.len() as f64 * q).ceil() as usize).clamp(1, self.lat.len()) - 1;
        self.lat[i].as_secs_f64() * 1000.0
    }
}

/// Runs `f(0..n)` on `clients` concurrent tasks; returns the timings and `f`'s answers.
pub(crate) async fn concurrent<T, F, Fut>(
    n: usize,
    clients: usize,
    f: F,
) -> (Stats, Vec<(usize, T)>)
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = Cpu::now();
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (f, next) = (f.clone(), next.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break out;
                    }
                    let t = Instant::now();
                    let v = f(i).await;
                    out.push((t.elapsed(), i, v));
                }
            })
        })
        .collect();
    let mut lat = Vec::with_capacity(n);
    let mut answers = Vec::with_capacity(n);
    for t in tasks {
        for (d, i, v) in t.await.expect("bench task") {
            lat.push(d);
            answers.push((i, v));
        }
    }
    (Stats::new(start.elapsed(), lat, None, cpu), answers)
}

/// Asks `f` `LIST_WARMUP` unmeasured then `LIST_RUNS` measured times, one after another;
/// `f` answers how many rows it got.
pub(crate) async fn sequential<F, Fut>(f: F) -> Stats
where
    F: Fn() -> Fut,
    Fut: Future<Output = usize>,
{
    let mut rows = 0;
    for _ in 0..LIST_WARMUP {
        rows = f().await;
    }
    let mut lat = Vec::with_capacity(LIST_RUNS);
    let cpu = Cpu::now();
    let start = Instant::now();
    for _ in 0..LIST_RUNS {
        let t = Instant::now();
        f().await;
        lat.push(t.elapsed());
    }
    Stats::new(start.elapsed(), lat, Some(rows), cpu)
}

/// The PostgreSQL server's main process, when it runs on this machine (0: unknown).
pub(crate) static POSTMASTER: AtomicU32 = AtomicU32::new(0);

/// CPU time (clock ticks) of the machine, of this process and of the local PostgreSQL.
pub(crate) struct Cpu {
    pub(crate) busy: u64,
    pub(crate) total: u64,
    pub(crate) ours: u64,
}

/// (ppid, utime + stime) of a process, from /proc/PID/stat.
pub(crate) fn proc_stat(pid: &str) -> Option<(u32, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = s[s.rfind(')')? + 1..].split_whitespace().collect();
    Some((
        f.get(1)?.parse().ok()?,
        f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?,
    ))
}

impl Cpu {
    pub(crate) fn now() -> Cpu {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let t: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal
        let busy = [0, 1, 2, 5, 6].iter().filter_map(|&i| t.get(i)).sum();
        let total = t.iter().take(8).sum();
        let mut ours = proc_stat("self").map_or(0, |(_, c)| c);
        let pm = POSTMASTER.load(Ordering::Relaxed);
        if pm != 0 {
            for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let name = e.file_name();
                let Some(pid) = name
                    .to_str()
                    .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                else {
                    continue;
                };
                if let Some((ppid, c)) = proc_stat(pid) {
                    if ppid == pm || pid == pm.to_string() {
                        ours += c;
                    }
                }
            }
        }
        Cpu { busy, total, ours }
    }

    /// Share of all CPU time since `before` spent by processes other than this one
    /// and its PostgreSQL server.
    pub(crate) fn others_since(&self, before: &Cpu) -> f64 {
        let total = self.total.saturating_sub(before.total).max(1) as f64;
        let busy = self.busy.saturating_sub(before.busy) as f64;
        let ours = self.ours.saturating_sub(before.ours) as f64;
        ((busy - ours) / total).max(0.0)
    }
}

/// The 1, 5 and 15 minute load averages: other work on the machine skews the figures.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

pub(crate) fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
