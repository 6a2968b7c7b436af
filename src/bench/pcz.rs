//! pcz itself as a bench row, in two forms:
//! - [`Pcz`] learns a circuit on the training split, then codes the test records with it.
//!   The model is the "extra" state, counted separately like a zstd dictionary; the ideal
//!   code length (the model's exact NLL) is reported next to the real size.
//! - [`SelfTrained`] is `pcz compress` with no model: each unit trains its own circuit,
//!   embedded in its output, so the sizes include the model. Used on image files.

use super::{one_by_one, pixel_count, with_lens, Codec, RecordsResult};
use crate::auto::{self, AutoOptions};
use crate::circuit::Circuit;
use crate::codec::PcCodec;
use crate::container::{self, CompressOptions, Limits, ModelMode};
use crate::data::png::pnm_file;
use crate::data::pnm::parse_pnm;
use crate::data::{Dataset, ImageShape};
use crate::error::{Error, Result};
use crate::learn::{self, EmOptions, StructureOptions};

/// How pcz trains for the bench.
#[derive(Debug, Clone)]
pub struct PczOptions {
    /// Hidden states per latent node.
    pub hidden: usize,
    /// Mini-batch EM epochs.
    pub epochs: usize,
    /// Full-batch EM epochs.
    pub full_epochs: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

/// The pcz row: the whole set goes into a `.pcz` container referencing the model; a single
/// record is one bare circuit-coded stream (what random access per record costs).
#[derive(Debug)]
pub struct Pcz {
    /// How to train; `None` for a row built on a given model.
    options: Option<PczOptions>,
    record_size: usize,
    /// Row stride inside a record (an image's width) for pcmix's spatial contexts; 0: none.
    row: usize,
    circuit: Option<Circuit>,
    codec: Option<PcCodec>,
}

impl Pcz {
    /// A pcz row for records of `record_size` bytes, trained on the training split.
    pub fn new(options: PczOptions, record_size: usize) -> Self {
        Pcz {
            options: Some(options),
            record_size,
            row: 0,
            circuit: None,
            codec: None,
        }
    }

    /// A pcz row coding records of `record_size` bytes with an already trained `circuit`
    /// (`pcz bench --model`); fails when the model codes records of another size.
    pub fn with_model(circuit: Circuit, record_size: usize) -> Result<Self> {
        if circuit.dims() != record_size {
            return Err(Error::parameter(format!(
                "the model codes records of {} values, the bench records have {record_size}",
                circuit.dims()
            )));
        }
        Ok(Pcz {
            options: None,
            record_size,
            row: 0,
            codec: Some(PcCodec::new(&circuit)),
            circuit: Some(circuit),
        })
    }

    /// The row with records seen as images `row` values wide, as `pcz compress` sees an
    /// IDX file's items (pcmix's spatial contexts then know the pixel above).
    pub fn with_row(self, row: usize) -> Self {
        Pcz { row, ..self }
    }

    fn trained(&self) -> Result<(&Circuit, &PcCodec)> {
        match (&self.circuit, &self.codec) {
            (Some(c), Some(p)) => Ok((c, p)),
            _ => Err(Error::parameter("pcz must be trained before coding")),
        }
    }
}

impl Codec for Pcz {
    fn name(&self) -> String {
        match (&self.options, &self.circuit) {
            (Some(o), _) => format!("pcz HCLT M={}", o.hidden),
            (None, Some(c)) => format!("pcz model M={}", c.hidden()),
            (None, None) => "pcz".into(),
        }
    }

    fn train(&mut self, records: &[&[u8]]) -> Result<Option<u64>> {
        let Some(options) = self.options.clone() else {
            return Ok(Some(self.trained()?.0.to_bytes().len() as u64));
        };
        let data = Dataset::new(self.record_size, records.concat())?;
        // One alphabet for every variable (the largest value seen + 1): test values unseen
        // in training still fit, e.g. 256 for 8-bit pixels.
        let k = data.alphabet().iter().copied().max().unwrap_or(1);
        let mut data = data;
        data.set_uniform_alphabet(if k > 16 { 256 } else { k })?;
        let structure = StructureOptions {
            hidden: options.hidden,
            seed: options.seed,
            ..Default::default()
        };
        let tree = learn::learn_tree(&data, &structure)?;
        let initial = learn::initial_circuit(tree, &data, options.hidden, options.seed)?;
        let em = EmOptions {
            epochs: options.epochs,
            full_epochs: options.full_epochs,
            seed: options.seed,
            ..Default::default()
        };
        let (circuit, _) = learn::train(&initial, &data, None, &em, &mut |_| {})?;
        let bytes = circuit.to_bytes().len() as u64;
        self.codec = Some(PcCodec::new(&circuit));
        self.circuit = Some(circuit);
        Ok(Some(bytes))
    }

    fn pretrained(&self) -> bool {
        self.options.is_none()
    }

    fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let (circuit, codec) = self.trained()?;
        if data.len() == self.record_size && codec.accepts(data) {
            return codec.encode_chunk(data);
        }
        let options = CompressOptions {
            model: Some((circuit, ModelMode::Reference("bench".into()))),
            row: self.row,
            ..Default::default()
        };
        container::compress(data, &options)
    }

    fn decompress(&mut self, data: &[u8], original_len: usize) -> Result<Vec<u8>> {
        let (circuit, codec) = self.trained()?;
        if original_len == self.record_size {
            return codec.decode_chunk(data, 1);
        }
        let parsed = container::parse(data, &Limits::default())?;
        container::decompress(&parsed, Some(circuit))
    }

    /// Records that all fit the model are coded side by side ([`PcCodec::encode_each`]), each
    /// into the stream [`Codec::compress`] makes of it alone. On a failure the records are
    /// redone one by one, so the error names its record.
    fn compress_records(&mut self, records: &[&[u8]]) -> RecordsResult {
        let (_, codec) = self.trained().map_err(|e| (0, e))?;
        let all = records.concat();
        let fits = records.iter().all(|r| r.len() == self.record_size) && codec.accepts(&all);
        match fits.then(|| codec.encode_each(&all)) {
            Some(Ok(streams)) => Ok(streams),
            _ => one_by_one(records, |r| self.compress(r)),
        }
    }

    fn decompress_records(&mut self, data: &[Vec<u8>], lens: &[usize]) -> RecordsResult {
        let (_, codec) = self.trained().map_err(|e| (0, e))?;
        let d = self.record_size;
        if lens.iter().all(|&len| len == d) {
            let streams: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
            if let Ok(all) = codec.decode_each(&streams) {
                return Ok(all.chunks(d.max(1)).map(<[u8]>::to_vec).collect());
            }
        }
        one_by_one(&with_lens(data, lens), |&(c, len)| self.decompress(c, len))
    }

    fn ideal_bits(&self, units: &[&[u8]]) -> Option<f64> {
        let circuit = self.circuit.as_ref()?;
        let data = Dataset::with_alphabet(
            self.record_size,
            units.concat(),
            circuit.alphabet().to_vec(),
        )
        .ok()?;
        let bpd = circuit.params().bits_per_dim(&data);
        Some(bpd * data.values().len() as f64)
    }
}

/// The pcz row on image files: every unit compressed as `pcz compress FILE` does it at
/// `level` (a circuit trained on the unit itself and embedded, or the zstd fallback when
/// that is smaller). An image is handed over as the raw PGM/PPM that `pcz compress --pixels`
/// makes of a PNG, so its size is that of `pcz compress x.ppm`, and of `--pixels` (which
/// differs by one flag bit asking for a PNG back) unless the PNG's own bytes were smaller.
#[derive(Debug)]
pub struct SelfTrained {
    options: AutoOptions,
}

impl SelfTrained {
    /// The row at `--level` `level`.
    pub fn new(level: u8) -> Self {
        SelfTrained {
            options: AutoOptions {
                level,
                ..Default::default()
            },
        }
    }
}

impl Codec for SelfTrained {
    fn name(&self) -> String {
        format!("pcz -l {} (self-trained)", self.options.level)
    }

    fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        Ok(auto::compress(data, &self.options, &mut |_| {})?.packed)
    }

    fn decompress(&mut self, data: &[u8], original_len: usize) -> Result<Vec<u8>> {
        let parsed = container::parse(data, &Limits::default())?;
        if parsed.header.original_size > original_len as u64 {
            return Err(Error::format(
                "pcz file",
                format!(
                    "holds {} bytes where {original_len} were compressed",
                    parsed.header.original_size
                ),
            ));
        }
        container::decompress(&parsed, None)
    }

    fn compress_image(&mut self, pixels: &[u8], shape: ImageShape) -> Result<Vec<u8>> {
        self.compress(&pnm_file(&shape, pixels))
    }

    fn decompress_image(&mut self, data: &[u8], shape: ImageShape) -> Result<Vec<u8>> {
        let header = pnm_file(&shape, &[]).len();
        let pnm = self.decompress(data, header + pixel_count(shape)?)?;
        let (decoded, pixels) = parse_pnm(&pnm, shape.values())?;
        if decoded != shape {
            return Err(Error::format(
                "pcz file",
                format!("holds a {decoded} image where {shape} was compressed"),
            ));
        }
        Ok(pixels)
    }
}
