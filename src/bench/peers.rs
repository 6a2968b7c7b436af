//! The general-purpose compressors that run inside this process, at the settings people use
//! when they want the smallest output: zstd (also with a trained dictionary), xz, brotli,
//! bzip2 and deflate.

use std::io::{Read, Write};

use crate::error::{Error, Result};

use super::{Availability, Codec, Peer, Status};

/// Default zstd dictionary size: what `zstd --train` uses when not told otherwise.
pub const DEFAULT_DICT_SIZE: usize = 112_640;

/// Every in-process peer, in table order. `dict_size` is the size limit of the trained zstd
/// dictionary; `None` skips that peer (image files have no training split, and a
/// dictionary learnt from the very images it codes would hold their pixels).
pub fn catalogue(dict_size: Option<usize>) -> Result<Vec<Peer>> {
    let peer = |key, codec: Box<dyn Codec>| Peer {
        key,
        availability: Availability::Ready(codec),
        per_record_skip: None,
    };
    let dict = match dict_size {
        Some(size) => peer("zstd-dict", Box::new(Zstd::new(19, Some(size))?)),
        None => Peer {
            key: "zstd-dict",
            availability: Availability::Unavailable {
                name: "zstd -19 + dict".into(),
                status: Status::Skipped,
                detail: "no training split: a dictionary learnt from the images it codes \
                         would hold their pixels"
                    .into(),
            },
            per_record_skip: None,
        },
    };
    Ok(vec![
        peer("zstd-3", Box::new(Zstd::new(3, None)?)),
        peer("zstd-19", Box::new(Zstd::new(19, None)?)),
        peer("zstd-22", Box::new(Zstd::new(22, None)?)),
        dict,
        peer("xz", Box::new(Xz)),
        peer("brotli", Box::new(Brotli)),
        peer("bzip2", Box::new(Bzip2)),
        peer("deflate", Box::new(Deflate)),
    ])
}

/// Reads a decoder to the end, but never more than `original_len + 1` bytes, so a corrupt
/// stream that claims a huge size cannot exhaust memory; overlong output is an error.
fn read_bounded(reader: impl Read, original_len: usize, context: &'static str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(original_len);
    reader
        .take(original_len as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::format(context, e.to_string()))?;
    if out.len() > original_len {
        return Err(Error::format(
            context,
            format!("decodes to more than the {original_len} bytes expected"),
        ));
    }
    Ok(out)
}

fn encoder_failed(what: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::Io(std::io::Error::other(format!("{what} encoder: {e}")))
}

type ZstdContexts = (
    zstd::bulk::Compressor<'static>,
    zstd::bulk::Decompressor<'static>,
);

/// zstd at a level, like the `zstd` command line: content size and checksum in every frame.
/// With a dictionary size it trains a dictionary on the training split first.
struct Zstd {
    level: i32,
    dict_size: Option<usize>,
    /// Kept between units: digesting a dictionary for every record would measure the
    /// set-up, not the codec.
    compressor: zstd::bulk::Compressor<'static>,
    decompressor: zstd::bulk::Decompressor<'static>,
}

impl Zstd {
    fn new(level: i32, dict_size: Option<usize>) -> Result<Self> {
        let (compressor, decompressor) = Self::contexts(level, &[])?;
        Ok(Zstd {
            level,
            dict_size,
            compressor,
            decompressor,
        })
    }

    fn contexts(level: i32, dictionary: &[u8]) -> Result<ZstdContexts> {
        let failed = encoder_failed("zstd");
        let mut c = zstd::bulk::Compressor::with_dictionary(level, dictionary).map_err(&failed)?;
        c.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))
            .map_err(&failed)?;
        let d = zstd::bulk::Decompressor::with_dictionary(dictionary)
            .map_err(|e| Error::format("zstd dictionary", e.to_string()))?;
        Ok((c, d))
    }
}

impl Codec for Zstd {
    fn name(&self) -> String {
        let ultra = if self.level > 19 { "--ultra " } else { "" };
        match self.dict_size {
            Some(size) => format!("zstd -{} + dict {size} B", self.level),
            None => format!("zstd {ultra}-{}", self.level),
        }
    }

    fn train(&mut self, records: &[&[u8]]) -> Result<Option<u64>> {
        let Some(size) = self.dict_size else {
            return Ok(None);
        };
        let dictionary = zstd::dict::from_samples(records, size)
            .map_err(|e| Error::parameter(format!("zstd dictionary training failed: {e}")))?;
        (self.compressor, self.decompressor) = Self::contexts(self.level, &dictionary)?;
        Ok(Some(dictionary.len() as u64))
    }

    fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        self.compressor
            .compress(data)
            .map_err(encoder_failed("zstd"))
    }

    fn decompress(&mut self, data: &[u8], original_len: usize) -> Result<Vec<u8>> {
        self.decompressor
            .decompress(data, original_len)
            .map_err(|e| Error::format("zstd frame", e.to_string()))
    }
}

/// xz -9e: LZMA2 preset 9 with the extreme flag, CRC64 check, one stream per unit.
struct Xz;

impl Xz {
    /// Like the xz program, shrinks the 64 MiB dictionary to the input size (never below
    /// 4 KiB): same output apart from the header, without allocating 674 MiB per record.
    fn filters(len: usize) -> Result<liblzma::stream::Filters> {
        let failed = encoder_failed("xz");
        let mut options =
            liblzma::stream::LzmaOptions::new_preset(9 | liblzma::stream::PRESET_EXTREME)
                .map_err(|e| failed(e.into()))?;
        let preset_dict = 64 << 20;
        let fitted = u32::try_from(len)
            .unwrap_or(u32::MAX)
            .clamp(4096, preset_dict);
        options.dict_size(fitted);
        let mut filters = liblzma::stream::Filters::new();
        filters.lzma2(&options);
        Ok(filters)
    }
}

/// Enough for any stream this bench writes (64 MiB dictionary at most).
const XZ_DECODER_MEMLIMIT: u64 = 256 << 20;

impl Codec for Xz {
    fn name(&self) -> String {
        "xz -9e".into()
    }

    fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let failed = encoder_failed("xz");
        let stream = liblzma::stream::Stream::new_stream_encoder(
            &Self::filters(data.len())?,
            liblzma::stream::Check::Crc64,
        )
        .map_err(|e| failed(e.into()))?;
        let mut out = Vec::new();
        liblzma::read::XzEncoder::new_stream(data, stream)
            .read_to_end(&mut out)
            .map_err(failed)?;
        Ok(out)
    }

    fn decompress(&mut self, data: &[u8], original_len: usize) -> Result<Vec<u8>> {
        let stream = liblzma::stream::Stream::new_stream_decoder(XZ_DECODER_MEMLIMIT, 0)
            .map_err(|e| Error::format("xz stream", e.to_string()))?;
        let reader = liblzma::read::XzDecoder::new_stream(data, stream);
        read_bounded(reader, original_len, "xz stream")
    }
}

/// brotli -q 11 -w 24.
struct Brotli;

impl Codec for Brotli {
    fn name(&self) -> String {
        "brotli -q 11 -w 24".into()
    }

    fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 24,
            size_hint: data.len(),
            ..Default::default()
        };
        let mut out = Vec::new();
        brotli::BrotliCompress(&mut &data[..], &mut out, &params)
            .map_err(encoder_failed("brotli"))?;
        Ok(out)
    }

    fn decompress(&mut self, data: &[u8], original_len: usize) -> Result<Vec<u8>> {
        let reader = brotli::Decompressor::new(data, 4096);
        read_bounded(reader, original_len, "brotli stream")
    }
}

/// bzip2 -9 (900 KB blocks).
struct Bzip2;

impl Codec for Bzip2 {
    fn name(&self) -> String {
        "bzip2 -9".into()
    }

    fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let failed = encoder_failed("bzip2");
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
        encoder.write_all(data).map_err(&failed)?;
        encoder.finish().map_err(failed)
    }

    fn decompress(&mut self, data: &[u8], original_len: usize) -> Result<Vec<u8>> {
        read_bounded(
            bzip2::read::BzDecoder::new(data),
            original_len,
            "bzip2 stream",
        )
    }
}

/// Raw deflate at level 9 (what is inside gzip and PNG, without their headers).
struct Deflate;

impl Codec for Deflate {
    fn name(&self) -> String {
        "deflate -9".into()
    }

    fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let failed = encoder_failed("deflate");
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).map_err(&failed)?;
        encoder.finish().map_err(failed)
    }

    fn decompress(&mut self, data: &[u8], original_len: usize) -> Result<Vec<u8>> {
        let reader = flate2::read::DeflateDecoder::new(data);
        read_bounded(reader, original_len, "deflate stream")
    }
}
