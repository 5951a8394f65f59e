// "Paint again": the edited map becomes a palette PNG of exact style numbers, is sent to storage as
// an upload of purpose `map`, and a new job names it (`regions_map`) with the same photo upload, the
// same styles in the same order (value k is the k-th style) and the same options as the job on
// screen. Nothing else is uploaded again. The job is then followed and shown as any other (flow.js).
import { ApiError } from "../api.js";
import { sendFiles, sendFromResult } from "../flow.js";
import { encodeMap } from "../pngmap.js";
import { GONE_UPLOAD_CODES } from "../reuse.js";

const LABEL = "Uploading your map";
const TOO_LARGE =
  "Your map has too many small specks to send. Fill them into the regions around them and try again.";
const GONE =
  "The photo or a painting of this picture is no longer kept for new jobs (they are kept for a day), " +
  'so it cannot be painted again. Press "Try other styles" to send the photo again.';

/**
 * The POST /jobs body that paints the job `asked` for (a job's `request`) again along the map
 * uploaded as `mapUpload`. `optionNames` are the options config.json describes: those the job set
 * are asked again as they were; anything else it shows (its own map, say) is left out.
 */
function paintAgainRequest(asked, mapUpload, optionNames) {
  const content = asked && asked.content;
  const styles = asked && Array.isArray(asked.styles) ? asked.styles : [];
  const named = styles.every((style) => style && (typeof style.preset === "string" || typeof style.upload === "string"));
  if (!content || typeof content.upload !== "string" || styles.length < 2 || !named) {
    throw new ApiError("This picture's photo and styles are not known here, so it cannot be painted again.", {
      code: "NotRepaintable",
    });
  }
  const request = {
    content: content.upload,
    styles: styles.map((style) =>
      typeof style.preset === "string" ? { preset: style.preset } : { upload: style.upload, name: style.name },
    ),
  };
  for (const name of optionNames) {
    if (asked[name] !== null && asked[name] !== undefined) request[name] = asked[name];
  }
  if (Array.isArray(asked.weights)) request.weights = asked.weights;
  request.mix = "regions";
  request.regions_map = mapUpload;
  return request;
}

/**
 * Sends `map` (coloured with `palette`) and paints `job` again along it; resolves to whether it did.
 * `mapRules` (config.json's `regions_map`) gives the most bytes a map may have.
 */
export function paintAgain({ api, job, map, palette, optionNames, mapRules }) {
  paintAgainRequest(job.request, null, optionNames); // refuses a job it cannot repeat before anything is sent
  return sendFromResult(async () => {
    const bytes = await encodeMap(map, palette);
    if (Number.isFinite(mapRules.max_bytes) && bytes.length > mapRules.max_bytes) {
      throw new ApiError(TOO_LARGE, { code: "RegionsMapTooLarge" });
    }
    const file = new File([bytes], "regions.png", { type: "image/png" });
    const [presigned] = await sendFiles([{ purpose: "map", type: "image/png", file, label: LABEL }]);
    try {
      return await api.createJob(paintAgainRequest(job.request, presigned.upload_id, optionNames));
    } catch (error) {
      if (GONE_UPLOAD_CODES.has(error.code)) throw new ApiError(GONE, { code: error.code, status: error.status });
      throw error;
    }
  }, { near: "editor" });
}
