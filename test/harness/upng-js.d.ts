// Types of upng-js 2.1 (a pure-JS PNG/APNG encoder and decoder; the package ships none): only what
// `npm run screenshots` uses to turn the relabeling frames into an animated PNG.
declare module 'upng-js' {
  interface Image {
    width: number;
    height: number;
  }
  const UPNG: {
    decode(buffer: ArrayBuffer): Image;
    /** Each frame as RGBA bytes. */
    toRGBA8(image: Image): ArrayBuffer[];
    /** `colors`: 0 for lossless, else a palette of that many colors; `delays` in ms per frame make an APNG. */
    encode(frames: ArrayBuffer[], width: number, height: number, colors: number, delays?: number[]): ArrayBuffer;
  };
  export default UPNG;
}
