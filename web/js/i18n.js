// Every text of the app in Korean and English. The language comes from the browser's preference
// until the person picks one; only that choice is stored (localStorage "lang"), nothing else.

const STORAGE_KEY = "lang";
const LANGUAGES = ["ko", "en"];

export const TEXTS = {
  en: {
    app_name: "Personal color",
    skip: "Skip to content",
    nav_label: "Main",
    nav_capture: "New photo",
    nav_history: "History",
    language: "Language",
    sign_out: "Sign out",
    loading: "Loading…",
    back_to_capture: "Take a new photo",
    // Sign-in
    login_title: "Find your colours",
    login_intro: "Sign in or create an account. Your photo is analysed in memory and never stored: only the result is kept.",
    username: "User name",
    password: "Password",
    password_hint: "At least 8 characters.",
    sign_in: "Sign in",
    register: "Create account",
    login_failed: "The user name or password is wrong.",
    // Capture
    capture_title: "Take a selfie",
    capture_intro: "Face the camera, fill the oval with your face and keep your lips bare. The meter turns green when the light is good enough.",
    camera_label: "Camera preview (mirrored)",
    camera_starting: "Starting the camera…",
    camera_unavailable: "No camera here, or access was refused. You can upload a photo instead.",
    meter_label: "Lighting",
    meter_score: "Score {score} / 100",
    reading_brightness: "Brightness",
    reading_highlights: "Washed-out areas",
    reading_cast: "Colour of the light",
    reading_backlight: "Backlight",
    reading_face: "Face in the oval",
    value_yes: "yes",
    value_no: "no",
    value_neutral: "neutral",
    value_warm: "yellow",
    value_cool: "blue",
    value_green: "green",
    value_magenta: "pink",
    verdict_good: "Good light",
    verdict_warn: "Usable light",
    verdict_bad: "Not yet",
    coach_good: "Good light. Hold still and take the photo.",
    coach_too_dark: "Too dark: turn towards the window or switch on a light.",
    coach_too_bright: "Too bright: parts of your face are washed out. Step out of direct sun.",
    coach_cast_warm: "Strong yellow light: try daylight by a window.",
    coach_cast_cool: "Strong blue light: move to warmer, even daylight.",
    coach_cast_green: "Greenish light: move away from coloured lamps, into daylight.",
    coach_cast_magenta: "Pinkish light: move away from coloured lamps, into daylight.",
    coach_backlit: "The light is behind you: turn towards the window.",
    coach_low_contrast: "The picture looks hazy: wipe the camera lens.",
    coach_no_face: "Put your face inside the oval.",
    shutter: "Take photo",
    shutter_disabled_hint: "The button works once the light is good.",
    upload: "Upload a photo",
    upload_hint: "A frontal photo in daylight, one face, eyes open.",
    sending: "Sending…",
    // Analyzing
    analyzing_title: "Analysing your colours",
    stage_queued: "Waiting for a free analyser…",
    stage_normalizing: "Checking the light",
    stage_landmarks: "Finding your face",
    stage_classifying: "Reading your colours",
    stage_saving: "Saving the result",
    reconnecting: "Connection lost. Retrying…",
    failed_title: "We could not analyse this photo",
    retake: "Retake the photo",
    error_POOR_LIGHTING_CONDITION: "The light was not good enough for a reliable colour reading.",
    error_NO_FACE_DETECTED: "We could not find a face. Fill the oval with your face, in good light.",
    error_MULTIPLE_FACES: "There is more than one face in the photo. Take it on your own.",
    error_FACE_TOO_SMALL: "Your face is too small in the photo. Come closer to the camera.",
    error_FACE_NOT_FRONTAL: "Your face is turned away. Look straight into the camera, head level.",
    error_EYES_NOT_VISIBLE: "Your eyes are not clearly visible. Open your eyes, take off sunglasses and move hair away.",
    error_NOT_A_COLOR_IMAGE: "The photo is black and white. Use a colour photo.",
    error_INVALID_IMAGE: "The file could not be read as a photo. Try another one.",
    error_UNSUPPORTED_MEDIA_TYPE: "Use a JPEG, PNG or WebP photo.",
    error_IMAGE_TOO_LARGE: "The photo is too large. Use a smaller one.",
    error_RATE_LIMITED: "Too many photos in a short time. Wait a minute and try again.",
    error_TIMEOUT: "The analysis took too long. Please try again.",
    error_INTERRUPTED: "The analysis was interrupted on our side. Please take the photo again.",
    error_SERVICE_UNAVAILABLE: "Many photos are being analysed right now. Please try again in a moment.",
    error_NOT_FOUND: "This analysis or result does not exist (or is not yours).",
    error_UNAUTHORIZED: "Please sign in again.",
    error_CONFLICT: "That user name is taken.",
    error_VALIDATION_ERROR: "Please check what you entered.",
    error_network: "The service cannot be reached. Check your connection and try again.",
    error_other: "Something went wrong on our side. Please try again.",
    problems_title: "What to change",
    problem_too_dark: "It was too dark: face a window or a lamp, or switch on more lights.",
    problem_too_bright: "Parts of your face were washed out: step out of direct sun or away from the lamp.",
    problem_color_cast: "The light was strongly coloured: use daylight near a window, away from coloured lamps.",
    problem_backlit: "The light was behind you: turn around so it falls on your face.",
    problem_low_contrast: "The photo looked hazy: wipe the camera lens and use brighter, even light.",
    problem_client_score: "Your camera's light check was low: retake it when the meter is green.",
    // Result
    result_title: "Your colour type",
    confidence: "Confidence {value}",
    runner_up: "Runner-up: {name} ({value})",
    best_colors: "Your best colours",
    worst_colors: "Colours to avoid",
    makeup: "Makeup",
    lip: "Lips",
    blush: "Blush",
    eyeshadow: "Eyeshadow",
    hair: "Hair colour",
    measured: "Your measured colours",
    skin: "Skin",
    eyes: "Eyes",
    lips: "Lips",
    hair_measured: "Hair",
    explanation: "Why this type",
    undertone: "Undertone",
    value: "Lightness",
    chroma: "Clarity",
    save_card: "Save palette card",
    card_saved: "Palette card saved.",
    card_footer: "Personal color · {date}",
    // History
    history_title: "Your history",
    history_empty: "No diagnoses yet.",
    delete: "Delete",
    delete_label: "Delete {name} from {date}",
    delete_confirm_title: "Delete this diagnosis?",
    delete_confirm_text: "It is removed for good.",
    cancel: "Cancel",
    load_more: "Show older",
    delete_account: "Delete my account and all my data",
    delete_account_title: "Delete your account?",
    delete_account_text: "Your account and every diagnosis are removed for good. This cannot be undone.",
    delete_account_confirm: "Delete everything",
    not_found_title: "Page not found",
  },
  ko: {
    app_name: "퍼스널 컬러",
    skip: "본문으로 건너뛰기",
    nav_label: "주 메뉴",
    nav_capture: "새 사진",
    nav_history: "기록",
    language: "언어",
    sign_out: "로그아웃",
    loading: "불러오는 중…",
    back_to_capture: "새 사진 찍기",
    login_title: "나에게 어울리는 색 찾기",
    login_intro: "로그인하거나 계정을 만드세요. 사진은 메모리에서만 분석되고 저장되지 않으며, 결과만 보관됩니다.",
    username: "아이디",
    password: "비밀번호",
    password_hint: "8자 이상.",
    sign_in: "로그인",
    register: "계정 만들기",
    login_failed: "아이디 또는 비밀번호가 틀렸어요.",
    capture_title: "셀카 찍기",
    capture_intro: "카메라를 정면으로 보고 얼굴을 타원 안에 맞추세요. 립 제품은 지워 주세요. 조명이 충분하면 측정기가 초록색이 됩니다.",
    camera_label: "카메라 미리보기 (좌우 반전)",
    camera_starting: "카메라를 켜는 중…",
    camera_unavailable: "카메라가 없거나 접근이 거부되었습니다. 대신 사진을 올릴 수 있습니다.",
    meter_label: "조명",
    meter_score: "점수 {score} / 100",
    reading_brightness: "밝기",
    reading_highlights: "하얗게 날아간 부분",
    reading_cast: "조명 색",
    reading_backlight: "역광",
    reading_face: "타원 안의 얼굴",
    value_yes: "예",
    value_no: "아니요",
    value_neutral: "자연광",
    value_warm: "노란빛",
    value_cool: "푸른빛",
    value_green: "초록빛",
    value_magenta: "분홍빛",
    verdict_good: "좋은 조명",
    verdict_warn: "쓸 만한 조명",
    verdict_bad: "아직이에요",
    coach_good: "좋은 조명입니다. 움직이지 말고 찍으세요.",
    coach_too_dark: "너무 어두워요: 창문 쪽을 보거나 불을 켜세요.",
    coach_too_bright: "너무 밝아요: 얼굴 일부가 하얗게 날아갔어요. 직사광선을 피하세요.",
    coach_cast_warm: "노란 조명이 강해요: 창가의 자연광에서 찍어 보세요.",
    coach_cast_cool: "푸른 조명이 강해요: 고른 자연광으로 옮기세요.",
    coach_cast_green: "초록빛 조명이에요: 색 조명을 피해 자연광으로 옮기세요.",
    coach_cast_magenta: "분홍빛 조명이에요: 색 조명을 피해 자연광으로 옮기세요.",
    coach_backlit: "빛이 뒤에 있어요: 창문 쪽으로 돌아서세요.",
    coach_low_contrast: "화면이 뿌옇게 보여요: 카메라 렌즈를 닦으세요.",
    coach_no_face: "얼굴을 타원 안에 맞추세요.",
    shutter: "사진 찍기",
    shutter_disabled_hint: "조명이 좋아지면 버튼이 켜집니다.",
    upload: "사진 올리기",
    upload_hint: "자연광에서 정면으로, 한 사람만, 눈을 뜬 사진.",
    sending: "보내는 중…",
    analyzing_title: "컬러 분석 중",
    stage_queued: "분석 차례를 기다리는 중…",
    stage_normalizing: "조명 확인 중",
    stage_landmarks: "얼굴 찾는 중",
    stage_classifying: "색 읽는 중",
    stage_saving: "결과 저장 중",
    reconnecting: "연결이 끊겼습니다. 다시 시도하는 중…",
    failed_title: "이 사진은 분석할 수 없었어요",
    retake: "다시 찍기",
    error_POOR_LIGHTING_CONDITION: "조명이 정확한 색 분석을 하기에 충분하지 않았어요.",
    error_NO_FACE_DETECTED: "얼굴을 찾지 못했어요. 밝은 곳에서 얼굴을 타원 안에 맞추세요.",
    error_MULTIPLE_FACES: "사진에 얼굴이 둘 이상 있어요. 혼자 찍어 주세요.",
    error_FACE_TOO_SMALL: "사진 속 얼굴이 너무 작아요. 카메라에 더 가까이 오세요.",
    error_FACE_NOT_FRONTAL: "얼굴이 돌아가 있어요. 고개를 바로 하고 카메라를 정면으로 보세요.",
    error_EYES_NOT_VISIBLE: "눈이 잘 보이지 않아요. 눈을 뜨고, 선글라스를 벗고, 머리카락을 치워 주세요.",
    error_NOT_A_COLOR_IMAGE: "흑백 사진이에요. 컬러 사진을 사용하세요.",
    error_INVALID_IMAGE: "사진 파일을 읽을 수 없어요. 다른 파일을 사용해 보세요.",
    error_UNSUPPORTED_MEDIA_TYPE: "JPEG, PNG 또는 WebP 사진을 사용하세요.",
    error_IMAGE_TOO_LARGE: "사진이 너무 커요. 더 작은 사진을 사용하세요.",
    error_RATE_LIMITED: "짧은 시간에 사진이 너무 많아요. 1분 뒤에 다시 시도하세요.",
    error_TIMEOUT: "분석이 너무 오래 걸렸어요. 다시 시도해 주세요.",
    error_INTERRUPTED: "서버에서 분석이 중단되었어요. 사진을 다시 찍어 주세요.",
    error_SERVICE_UNAVAILABLE: "지금 분석 중인 사진이 많아요. 잠시 후 다시 시도해 주세요.",
    error_NOT_FOUND: "이 분석이나 결과가 없거나 본인의 것이 아니에요.",
    error_UNAUTHORIZED: "다시 로그인해 주세요.",
    error_CONFLICT: "이미 있는 아이디예요.",
    error_VALIDATION_ERROR: "입력한 내용을 확인해 주세요.",
    error_network: "서비스에 연결할 수 없어요. 연결을 확인하고 다시 시도하세요.",
    error_other: "문제가 생겼어요. 다시 시도해 주세요.",
    problems_title: "이렇게 바꿔 보세요",
    problem_too_dark: "너무 어두웠어요: 창문이나 조명을 마주하거나 불을 더 켜세요.",
    problem_too_bright: "얼굴 일부가 하얗게 날아갔어요: 직사광선이나 조명에서 조금 떨어지세요.",
    problem_color_cast: "조명 색이 강했어요: 색 조명을 피해 창가의 자연광을 쓰세요.",
    problem_backlit: "빛이 뒤에 있었어요: 빛이 얼굴에 닿도록 돌아서세요.",
    problem_low_contrast: "사진이 뿌옇게 보였어요: 렌즈를 닦고 더 밝고 고른 빛을 쓰세요.",
    problem_client_score: "카메라의 조명 점수가 낮았어요: 측정기가 초록색일 때 다시 찍으세요.",
    result_title: "나의 컬러 타입",
    confidence: "확신도 {value}",
    runner_up: "차선: {name} ({value})",
    best_colors: "베스트 컬러",
    worst_colors: "피해야 할 컬러",
    makeup: "메이크업",
    lip: "립",
    blush: "블러셔",
    eyeshadow: "아이섀도",
    hair: "헤어 컬러",
    measured: "측정된 나의 색",
    skin: "피부",
    eyes: "눈",
    lips: "입술",
    hair_measured: "머리카락",
    explanation: "이 타입인 이유",
    undertone: "언더톤",
    value: "명도",
    chroma: "채도",
    save_card: "팔레트 카드 저장",
    card_saved: "팔레트 카드를 저장했어요.",
    card_footer: "퍼스널 컬러 · {date}",
    history_title: "나의 기록",
    history_empty: "아직 진단 기록이 없어요.",
    delete: "삭제",
    delete_label: "{date}의 {name} 삭제",
    delete_confirm_title: "이 진단을 삭제할까요?",
    delete_confirm_text: "영구적으로 삭제됩니다.",
    cancel: "취소",
    load_more: "이전 기록 보기",
    delete_account: "내 계정과 모든 데이터 삭제",
    delete_account_title: "계정을 삭제할까요?",
    delete_account_text: "계정과 모든 진단 기록이 영구적으로 삭제됩니다. 되돌릴 수 없어요.",
    delete_account_confirm: "모두 삭제",
    not_found_title: "페이지를 찾을 수 없어요",
  },
};

const listeners = new Set();
let current = initialLanguage();

function initialLanguage() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (LANGUAGES.includes(saved)) return saved;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language];
  return preferred.some((tag) => String(tag).toLowerCase().startsWith("ko")) ? "ko" : "en";
}

/** The current language, "ko" or "en". */
export function lang() {
  return current;
}

/** Switch language, remember the choice, and tell every listener (the router re-renders). */
export function setLang(next) {
  if (!LANGUAGES.includes(next) || next === current) return;
  current = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
  listeners.forEach((listener) => listener(next));
}

export function onLangChange(listener) {
  listeners.add(listener);
}

/** The text for `key` in the current language, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = TEXTS[current][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function has(key) {
  return key in TEXTS.en;
}

export function formatPercent(fraction) {
  return new Intl.NumberFormat(current, { style: "percent", maximumFractionDigits: 0 }).format(fraction);
}

export function formatDate(iso) {
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

/** Fill the static page (index.html) texts marked with data-i18n / data-i18n-aria. */
export function translateStatic(root = document) {
  document.documentElement.lang = current;
  root.querySelectorAll("[data-i18n]").forEach((element) => { element.textContent = t(element.dataset.i18n); });
  root.querySelectorAll("[data-i18n-aria]").forEach((element) => {
    element.setAttribute("aria-label", t(element.dataset.i18nAria));
  });
  document.title = t("app_name");
}
