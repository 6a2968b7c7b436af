//! Learning a circuit from data: structure (mutual information, Chow-Liu tree, HCLT) and
//! parameters (EM). Encoder-side only.
