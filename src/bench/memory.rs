//! Peak resident memory of the bench process, for the rows coded inside it. Linux keeps a
//! high-water mark of resident memory (`VmHWM` in `/proc/self/status`) which writing `5`
//! to `/proc/self/clear_refs` resets, so a row's peak is the mark after its round trips,
//! reset before them. It is the whole process's memory (the corpus and a given model
//! included), which is what a user running that compressor would also need. Where the mark
//! cannot be reset or read there is no figure rather than a stale one.

/// Resets the high-water mark to the memory resident now; false when the system cannot.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The high-water mark of resident memory in bytes, when the system reports one.
pub fn peak_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kb: u64 = kb.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kb.checked_mul(1024)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_mark_holds_at_least_what_is_resident() {
        // Other tests reset the mark concurrently, but never below what is resident: a
        // written 64 MiB block keeps it above 64 MiB however they interleave.
        assert!(reset_peak(), "/proc/self/clear_refs");
        let block = vec![1u8; 64 << 20];
        let peak = peak_bytes().expect("VmHWM");
        assert!(peak >= 64 << 20, "{peak}");
        drop(std::hint::black_box(block));
    }
}
