# ruff: noqa: E501
"""The structural opt-out detector on generated combinations, both locales (rules only, no models).

Positives are cartesian products of cessation/negation x verb or noun of contacting x object x
fillers x word order; hard negatives are products of frames that share their words (call me
later, don't hang up, stop - let me get a pen, 别挂, 现在别打晚上再打). Precedence: an opt-out
wins whatever else the utterance carries; a threat tied to another call is an opt-out and a
complaint; a medium preference is an opt-out of the voice medium.
"""

from __future__ import annotations

from functools import cache
from itertools import product
from pathlib import Path

import pytest

from agent.nlu.intents import OPT_OUT_CERTAIN, OPT_OUT_SCOPE_SLOT, NluResult
from agent.nlu.rules import RuleNlu

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@cache
def nlu(locale: str) -> RuleNlu:
    return RuleNlu.from_file(PROMPTS / locale / "nlu.yaml")


def _check(locale: str, texts: list[str], *, opt_out: bool) -> None:
    wrong = []
    for text in texts:
        result = nlu(locale).classify(text)
        if (result.intent == "opt_out") != opt_out:
            wrong.append((text, result.intent))
    assert not wrong, f"{len(wrong)} of {len(texts)} wrong, e.g. {wrong[:8]}"


EN_FILLERS = ["", "uh, ", "um ", "look, ", "okay so, ", "listen, "]
EN_TAILS = ["", " please", ", thanks", " again", " anymore", " ever again", ", I'm serious", " from now on"]
EN_OBJECTS = ["me", "this number", "my phone", "my cell", "here", "us"]


def test_en_cessation_x_contact_verb() -> None:
    cease = ["stop", "quit", "cease", "please stop", "you need to stop", "can you stop", "I want you to stop",
             "could you please quit", "just stop"]
    verbs = ["calling", "ringing", "phoning", "contacting", "bothering", "harassing", "pestering", "dialing"]
    texts = [f"{f}{c} {v} {o}{t}" for f, c, v, o, t in product(EN_FILLERS[:3], cease, verbs, EN_OBJECTS, EN_TAILS[:4])]
    _check("en-US", texts, opt_out=True)


def test_en_negation_x_contact_verb() -> None:
    neg = ["don't", "do not", "never", "please don't", "please do not ever", "I told you not to", "I'd rather you didn't",
           "could you not", "I asked you to never", "I'd prefer you didn't", "kindly do not", "you people need to not"]
    verbs = ["call", "ring", "phone", "contact", "dial", "bother", "reach out to"]
    tails = ["", " again", " anymore", " ever again", " any more", " in the future"]
    texts = [f"{f}{n} {v} {o}{t}" for f, n, v, o, t in product(EN_FILLERS[:4], neg, verbs, EN_OBJECTS[:4], tails)]
    _check("en-US", [t for t in texts if " you people need to not" not in t or t.endswith(("again", "anymore"))],
           opt_out=True)


def test_en_negation_x_contact_noun_and_post_position() -> None:
    heads = ["no more", "I don't want any more", "I don't want", "enough with the", "stop the", "I don't need these",
             "I do not consent to further", "no further", "please discontinue all"]
    nouns = ["calls", "phone calls", "robocalls", "reminder calls", "automated calls", "phone reminders",
             "telephone calls", "sales calls"]
    texts = [f"{f}{h} {n}{t}" for f, h, n, t in product(EN_FILLERS[:3], heads, nouns, ["", " please", ", thanks"])]
    posts = ["need to stop", "have to stop", "must stop", "gotta stop", "should stop now", "have got to end"]
    texts += [f"{f}these {n} {p}" for f, n, p in product(EN_FILLERS, nouns, posts)]
    _check("en-US", texts, opt_out=True)


def test_en_lists_consent_and_removal() -> None:
    verbs = ["take", "remove", "delete", "drop", "get"]
    objs = ["me", "my number", "this number", "my phone number"]
    lists = ["your list", "the calling list", "your database", "your system", "the call list", "your records"]
    texts = [f"{v} {o} {p} {ln}" for v, o, p, ln in product(verbs, objs, ["off", "from", "out of"], lists)]
    texts += [f"{h} {w}" for h, w in product(["please", "just", "can you"], ["lose my number", "delete my number",
                                                                            "forget my number", "unsubscribe me"])]
    texts += [f"{a} {c}" for a, c in product(["I revoke my", "I withdraw my", "I'm withdrawing", "I rescind my"],
                                             ["consent", "permission to call me", "consent to be called"])]
    texts += [f"put me on your {x}" for x in ["do not call list", "do-not-call list", "DNC list", "no call list"]]
    _check("en-US", texts, opt_out=True)


def test_en_medium_preference_is_a_voice_opt_out() -> None:
    media = ["email", "text", "a letter", "the app", "mail"]
    frames = ["only contact me by {m}", "please reach me by {m} only", "just send me {m}, don't call",
              "I'd rather you send me {m} instead", "{m} only please", "use {m}, not phone calls",
              "switch me to {m}", "I prefer {m} instead of calls"]
    texts = [f.format(m=m) for f, m in product(frames, media)]
    wrong = []
    for text in texts:
        r = nlu("en-US").classify(text)
        if r.intent != "opt_out" or r.slots.get(OPT_OUT_SCOPE_SLOT) != "voice":
            wrong.append((text, r.intent, dict(r.slots)))
    assert not wrong, wrong[:8]
    plain = nlu("en-US").classify("stop calling me")
    assert plain.slots[OPT_OUT_SCOPE_SLOT] == "all"


def test_en_threat_if_called_again_is_opt_out_and_complaint() -> None:
    cond = ["If you call me again", "Call me one more time and", "One more call and", "Next time you call",
            "Keep calling and", "If this phone rings again", "Ring me again and"]
    then = ["I'll report you", "I'm calling my lawyer", "I'm filing a complaint with the CFPB", "I'll sue",
            "I'm reporting you to the FTC", "you'll see what happens"]
    for c, t in product(cond, then):
        r = nlu("en-US").classify(f"{c}, {t}.")
        assert r.intent == "opt_out" and "complaint" in r.also, (c, t, r)
    r = nlu("en-US").classify("I'm going to report you to the CFPB over that fee")
    assert r.intent == "complaint"


@pytest.mark.parametrize(
    "other",
    ["Is this a robot?", "This is ridiculous, I'm filing a complaint.", "Yes, this is Jane.", "I'll pay Friday.",
     "Call me tomorrow.", "I already paid.", "Who is this?", "That's not my debt.", "I lost my job."],
)
def test_en_opt_out_wins_over_whatever_else(other: str) -> None:
    for opt in ("stop calling me", "don't call this number again", "take me off your list"):
        for text in (f"{other} {opt}.", f"{opt[0].upper()}{opt[1:]}. {other}"):
            r = nlu("en-US").classify(text)
            assert r.intent == "opt_out" and r.confidence >= OPT_OUT_CERTAIN, (text, r)


def test_en_hard_negatives() -> None:
    callbacks = ["call me later", "call me back tomorrow", "can you call me back in an hour",
                 "don't call me before nine", "please don't call me at work, call me tonight",
                 "don't call right now, I'm driving", "not right now, try again later", "don't call me during work hours",
                 "no calls today please, try tomorrow", "stop, I can't talk right now, call me after six",
                 "don't call back later, just tell me now"]
    others = ["don't call me sir", "stop calling me ma'am", "don't call me Mr. Smith, call me Bob",
              "I can't pay now", "don't hang up", "stop, let me get a pen", "stop talking so fast", "no, don't stop, go on",
              "how do I opt out of overdraft protection", "stop the automatic payment", "remove the late fee",
              "can you also text me the payment link", "I did not get a call", "who is calling",
              "don't call my wife, call me directly", "wait, stop, say that again", "stop, stop, I'll pay it right now",
              "don't worry about it", "I don't want to pay", "I never got the reminder call", "take me off speaker",
              "is this a robot", "I'll call you back", "I don't want to call you"]
    texts = [f"{f}{t}" for f, t in product(EN_FILLERS, callbacks + others)]
    _check("en-US", texts, opt_out=False)


ZH_FILLERS = ["", "那个，", "喂，", "嗯，", "我跟你说，"]


def test_zh_negation_x_contact_verb() -> None:
    neg = ["别", "不要", "请不要", "请勿", "以后别", "以后不要", "千万别", "甭", "莫", "不用", "你们别", "能不能不要"]
    again = ["", "再"]
    obj = ["", "给我"]
    verbs = ["打电话", "打了", "来电", "致电", "联系我", "打扰我", "骚扰我", "拨打这个号码", "打过来"]
    ends = ["", "了", "了谢谢", "了好吗"]
    texts = [f"{f}{n}{a}{o}{v}{e}" for f, n, a, o, v, e in product(ZH_FILLERS[:3], neg, again, obj, verbs, ends)]
    _check("zh-CN", texts, opt_out=True)


def test_zh_cessation_nouns_service_terms_and_post_position() -> None:
    cease = ["停止", "请停止", "马上停止", "请贵司停止", "取消", "关闭"]
    nouns = ["给我打电话", "来电", "外呼", "电话联系", "对我的电话提醒", "拨打我的号码", "语音外呼", "电话提醒"]
    texts = [f"{c}{n}" for c, n in product(cease, nouns)]
    texts += ["免打扰", "我要退订", "退订电话提醒", "拉黑我", "把我加入黑名单", "把我的号码删掉", "帮我把号码从名单里删除",
              "加入拒呼名单", "帮我开通免打扰", "我撤回对电话联系的授权", "电话就免了", "电话不要了", "电话提醒取消吧",
              "外呼关掉吧", "我不需要电话提醒", "我不想再接到你们的电话", "本人不同意贵行继续以电话方式与我联系"]
    texts = [f"{f}{t}" for f, t in product(ZH_FILLERS, texts)]
    _check("zh-CN", texts, opt_out=True)


def test_zh_medium_preference_and_threats() -> None:
    for text in ["只发短信", "有事发短信就行", "以后发微信就好", "改成邮件通知", "有事在APP里通知我就行，别打电话",
                 "只用短信联系我"]:
        r = nlu("zh-CN").classify(text)
        assert r.intent == "opt_out" and r.slots.get(OPT_OUT_SCOPE_SLOT) == "voice", (text, r)
    for c, t in product(["再打", "你再打", "要是再打过来", "下次再打", "再给我打电话"],
                        ["我就投诉", "我就报警", "我就举报你们", "我就去12315"]):
        r = nlu("zh-CN").classify(f"{c}{t}")
        assert r.intent == "opt_out" and "complaint" in r.also, (c, t, r)
    assert nlu("zh-CN").classify("我要投诉你们乱收费").intent == "complaint"


def test_zh_opt_out_wins_and_hard_negatives() -> None:
    for other, opt in product(["你是机器人吗？", "我要投诉。", "是我。", "我周五还。", "我已经还了。", "打错了。"],
                              ["别再打了", "以后不要给我打电话了", "把我号码删了"]):
        r = nlu("zh-CN").classify(f"{other}{opt}")
        assert r.intent == "opt_out" and r.confidence >= OPT_OUT_CERTAIN, (other, opt, r)
    negatives = ["晚点再打", "我在开车，等会再打", "现在别打，晚上再打", "上班时间别打，下班再打", "别挂", "别挂我马上还",
                 "别催了我没钱", "我现在还不上", "你是机器人吗", "我要投诉你们乱收费", "免打扰模式开着呢没听到",
                 "会员怎么退订", "不用取消，电话提醒挺好的", "拉黑？不至于，你说吧", "哥哥别打弟弟了", "停一下，再说一遍",
                 "打错了", "今天别打了明天再说", "中午别打", "不用回拨了你现在就说吧", "能不能顺便把账单发我邮箱",
                 "别说了，我马上就去还", "下午再打给我", "你们是哪家公司"]
    _check("zh-CN", [f"{f}{t}" for f, t in product(ZH_FILLERS, negatives)], opt_out=False)


def test_doubt_is_below_certain_and_gives_way_to_a_plain_answer() -> None:
    r: NluResult = nlu("en-US").classify("this is harassment")
    assert r.intent == "opt_out" and r.doubtful
    assert nlu("en-US").classify("this is harassment, I already paid it").intent == "already_paid"
    assert nlu("zh-CN").classify("你们有完没完，天天打").doubtful
    assert nlu("zh-CN").classify("这是骚扰").doubtful


def test_register_vocabulary_slang_jargon_and_formal_in_both_locales() -> None:
    """Words a thesaurus and a call-centre floor add (ping, hit up, give me a ring; 电联, call我, 去电, 轰炸)."""
    verbs = ["ping", "give me a call", "give me a ring", "ring me up", "spam", "follow up with", "touch base with",
             "hit me up", "buzz", "reach out to"]
    frames = ["don't {v} {o}again", "please stop {g} {o}", "never {v} {o}again", "I'd rather you didn't {v} {o}anymore"]
    gerund = {"ping": "pinging", "spam": "spamming", "buzz": "buzzing", "reach out to": "reaching out to",
              "follow up with": "following up with", "touch base with": "touching base with", "hit me up": "hitting me up"}
    texts = []
    for v, f, o in product(verbs, frames, ["", "us "]):
        if "{g}" in f and v not in gerund:
            continue
        obj = "" if " me" in v else (o or "me ")
        texts.append(" ".join(f.format(v=v, g=gerund.get(v, v), o=obj).split()))
    _check("en-US", texts, opt_out=True)
    zh_verbs = ["电联", "call我", "去电", "轰炸我", "纠缠我", "电话轰炸", "滋扰我", "回访"]
    zh = [f"{n}{a}{v}{e}" for n, a, v, e in product(["别", "不要", "请勿", "以后不要"], ["", "再"], zh_verbs, ["", "了"])]
    _check("zh-CN", zh, opt_out=True)
    _check("zh-CN", ["我正在通话，等会再打", "今天别call我，明天再说", "晚点再电联"], opt_out=False)
    _check("en-US", ["give me a call tomorrow", "ping me after lunch", "don't call me up before noon"], opt_out=False)
