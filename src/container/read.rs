//! Parsing a container: every count and size is checked against the bytes present and the
//! limits before anything is allocated.

use super::{
    Chunk, Codec, Header, Limits, Model, Transform, FLAG_MODEL_COMPACT, FLAG_MODEL_EMBEDDED,
    FLAG_MODEL_REFERENCED, FLAG_PNG_PIXELS, FLAG_TRANSFORM, MAGIC, MODEL_FLAGS, VERSION, VERSION_1,
    VERSION_COMPACT,
};
use crate::bytes::Reader;
use crate::error::{Error, Result};
use xxhash_rust::xxh3::xxh3_64;

const CONTEXT: &str = "pcz file";

/// A parsed container: header plus borrowed model bytes and chunk payloads.
#[derive(Debug, Clone)]
pub struct Parsed<'a> {
    /// Everything but the payloads.
    pub header: Header,
    /// The embedded model file or compact model (empty unless embedded).
    pub model_bytes: &'a [u8],
    /// One payload per chunk.
    pub payloads: Vec<&'a [u8]>,
    /// The limits it was parsed with, which decoding its model honours too.
    pub limits: Limits,
}

/// Parses and validates the structure of a `.pcz` file (payloads are checked on decoding).
pub fn parse<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Parsed<'a>> {
    let mut r = Reader::new(bytes, CONTEXT);
    if r.take(4.min(bytes.len()))? != MAGIC {
        return Err(Error::format(CONTEXT, "bad magic (not a pcz file)"));
    }
    let version = r.u16()?;
    if !(VERSION_1..=VERSION).contains(&version) {
        return Err(Error::Unsupported {
            what: format!("pcz format version {version} (this build reads 1 to {VERSION})"),
        });
    }
    let flags = r.u16()?;
    let known = match version {
        VERSION_1 => FLAG_MODEL_EMBEDDED | FLAG_MODEL_REFERENCED,
        VERSION_COMPACT => MODEL_FLAGS,
        _ => MODEL_FLAGS | FLAG_TRANSFORM | FLAG_PNG_PIXELS,
    };
    if flags & !known != 0 || (flags & MODEL_FLAGS).count_ones() > 1 {
        return Err(Error::format(
            CONTEXT,
            format!("invalid flags {flags:#06x}"),
        ));
    }
    let original_size = r.u64()?;
    if original_size > limits.max_output {
        return Err(Error::LimitExceeded(format!(
            "original size {original_size} bytes is above the memory limit of {}",
            limits.max_output
        )));
    }
    let record_size = r.u32()?;
    let record_count = r.u64()?;
    if record_size == 0 {
        return Err(Error::format(CONTEXT, "record size is zero"));
    }
    let prefix = sized(&mut r)?.to_vec();
    let suffix = sized(&mut r)?.to_vec();
    let body = record_count.checked_mul(u64::from(record_size));
    let total = body.and_then(|b| b.checked_add(prefix.len() as u64 + suffix.len() as u64));
    if total != Some(original_size) {
        return Err(Error::format(
            CONTEXT,
            "prefix, records and suffix do not add up to the original size",
        ));
    }
    let transform = match flags & FLAG_TRANSFORM {
        0 => None,
        _ => Some(Transform::read(&mut r)?),
    };
    let (model, model_bytes) = read_model(&mut r, flags & MODEL_FLAGS)?;
    let chunks = read_index(&mut r, record_count, version)?;
    let header_end = r.position();
    let header_checksum = r.u64()?;
    if xxh3_64(&bytes[..header_end]) != header_checksum {
        return Err(Error::format(
            CONTEXT,
            "header checksum mismatch (corrupt header)",
        ));
    }
    let mut payloads = Vec::with_capacity(chunks.len());
    for chunk in &chunks {
        payloads.push(r.take(chunk.stored_size as usize)?);
    }
    let content_checksum = r.u64()?;
    if r.remaining() != 0 {
        return Err(Error::format(
            CONTEXT,
            format!("{} unexpected bytes after the end", r.remaining()),
        ));
    }
    let header = Header {
        version,
        original_size,
        record_size,
        record_count,
        prefix,
        suffix,
        transform,
        png_pixels: flags & FLAG_PNG_PIXELS != 0,
        model,
        chunks,
        content_checksum,
    };
    Ok(Parsed {
        header,
        model_bytes,
        payloads,
        limits: *limits,
    })
}

fn sized<'a>(r: &mut Reader<'a>) -> Result<&'a [u8]> {
    let n = r.u32()? as usize;
    r.take(n)
}

fn read_model<'a>(r: &mut Reader<'a>, flags: u16) -> Result<(Model, &'a [u8])> {
    if flags == 0 {
        return Ok((Model::None, &[]));
    }
    let hash = r.u128()?;
    if flags == FLAG_MODEL_REFERENCED {
        let n = r.u16()? as usize;
        let name = String::from_utf8_lossy(r.take(n)?).into_owned();
        return Ok((Model::Referenced { hash, name }, &[]));
    }
    let n = r.u64()?;
    let bytes =
        r.take(usize::try_from(n).map_err(|_| Error::format(CONTEXT, "model size overflows"))?)?;
    let model = if flags == FLAG_MODEL_COMPACT {
        Model::Compact { hash, bytes: n }
    } else {
        Model::Embedded { hash, bytes: n }
    };
    Ok((model, bytes))
}

fn read_index(r: &mut Reader<'_>, record_count: u64, version: u16) -> Result<Vec<Chunk>> {
    let count = r.u32()? as usize;
    // Each index entry takes 17 bytes: refuse counts the file cannot hold before allocating.
    r.require(
        count
            .checked_mul(17)
            .ok_or_else(|| Error::format(CONTEXT, "chunk count overflows"))?,
    )?;
    let mut chunks = Vec::with_capacity(count);
    let mut records = 0u64;
    for i in 0..count {
        let codec = Codec::from_id(r.u8()?).map_err(|e| match e {
            Error::Unsupported { what } => Error::Unsupported {
                what: format!("{what} (chunk {i})"),
            },
            other => other,
        })?;
        if version < codec.version() {
            return Err(Error::format(
                CONTEXT,
                format!(
                    "chunk {i}: codec {} needs version {}, file is version {version}",
                    codec.id(),
                    codec.version()
                ),
            ));
        }
        let chunk = Chunk {
            codec,
            records: r.u32()?,
            stored_size: r.u32()?,
            checksum: r.u64()?,
        };
        records += u64::from(chunk.records);
        chunks.push(chunk);
    }
    if records != record_count {
        return Err(Error::format(
            CONTEXT,
            format!("chunks hold {records} records, header says {record_count}"),
        ));
    }
    Ok(chunks)
}
