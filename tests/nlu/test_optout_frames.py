# ruff: noqa: E501
"""The detector's frames added for phrasings written outside the team (issue 10), on generated products.

Each class of frame is driven through the pure rule NLU with cartesian products of its parts
(subject x verb x object x tail, medium x acceptance x voice refusal, ...), both locales, and
with hard negatives that share the frame's words.
"""

from __future__ import annotations

from functools import cache
from itertools import product
from pathlib import Path

from agent.nlu.intents import OPT_OUT_SCOPE_SLOT
from agent.nlu.rules import RuleNlu

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@cache
def nlu(locale: str) -> RuleNlu:
    return RuleNlu.from_file(PROMPTS / locale / "nlu.yaml")


def _wrong(locale: str, texts: list[str], *, opt_out: bool, scope: str | None = None) -> list[tuple[str, str]]:
    wrong = []
    for text in texts:
        result = nlu(locale).classify(text)
        if (result.intent == "opt_out") != opt_out or (
            opt_out and scope is not None and result.slots.get(OPT_OUT_SCOPE_SLOT) != scope
        ):
            wrong.append((text, f"{result.intent} {dict(result.slots)}"))
    return wrong


def _check(locale: str, texts: list[str], *, opt_out: bool, scope: str | None = None) -> None:
    wrong = _wrong(locale, texts, opt_out=opt_out, scope=scope)
    assert not wrong, f"{len(wrong)} of {len(texts)} wrong, e.g. {wrong[:8]}"


# -- en-US -------------------------------------------------------------------------------------

def test_en_contact_no_longer_permitted() -> None:
    nouns = ["calls to this number", "phone calls", "further calls to my line", "any calls from you", "robocalls"]
    states = ["are no longer permitted", "are not authorized", "are no longer welcome", "are not allowed anymore",
              "are unwanted", "are hereby prohibited"]
    texts = [f"{p}{n} {s}" for p, n, s in product(["", "please note that ", "be advised, "], nouns, states)]
    texts += [f"{s} {v} {o}" for s, v, o in product(
        ["you are not permitted to", "you're no longer authorized to", "your company is not allowed to"],
        ["call", "contact", "phone", "ring"], ["me", "this number", "me on this phone any longer"])]
    texts += [f"I do not {a} {w} to {v} me" for a, w, v in product(
        ["authorize", "permit", "allow"], ["your company", "your organization", "you people"], ["call", "contact"])]
    texts += [f"you do not have my {n} to {v} this number" for n, v in product(
        ["permission", "consent", "authorization"], ["call", "ring", "dial"])]
    _check("en-US", texts, opt_out=True)


def test_en_refusing_further_contact() -> None:
    verbs = ["I refuse", "I decline", "I object to", "I'm going to pass on", "I reject", "I will not accept",
             "I won't be picking up"]
    objs = ["any further calls", "further telephone contact", "any more automated calls", "future calls",
            "these calls going forward"]
    texts = [f"{v} {o}{t}" for v, o, t in product(verbs, objs, ["", " from your company", ", thanks"])]
    _check("en-US", texts, opt_out=True)
    _check("en-US", ["I refuse to pay that late fee", "I decline the offer, thanks", "I'll pass on the payment plan",
                     "I object to the interest charge"], opt_out=False)


def test_en_not_to_be_contacted() -> None:
    heads = ["I am not to be", "please note I'm not to be", "I do not wish to be", "I'd prefer not to be",
             "I would rather not be", "I ask not to be"]
    verbs = ["called", "contacted", "reached", "phoned"]
    tails = [" again", " at this number going forward", " by telephone", " anymore"]
    _check("en-US", [f"{h} {v}{t}" for h, v, t in product(heads, verbs, tails)], opt_out=True)


def test_en_medium_fine_voice_not_is_a_voice_opt_out() -> None:
    media = ["texts", "email", "emails", "a letter", "mail", "app notifications", "SMS"]
    frames = ["{m} are fine, calls are not", "{m} is fine but phone calls are not", "{m} yes, calls no",
              "I'm okay with {m}, not with calls", "I don't mind the {m}, it's the calls I want gone",
              "{m} works for me, the phone does not", "use {m}, not my phone"]
    texts = [f.format(m=m) for f, m in product(frames, media)]
    _check("en-US", texts, opt_out=True, scope="voice")


def test_en_getting_off_lists() -> None:
    heads = ["can I get off", "I want off", "I need to get off", "how do I get off", "I'd like to be taken off"]
    lists = ["your calling list", "the call list", "your list", "your dialer"]
    texts = [f"{h} {ln}" for h, ln in product(heads, lists)]
    texts += ["off the list", "off your list please", "turn these calls off", "cut the calls out",
              "add me to the do not call list", "put me on the do not cool list", "suppress my number"]
    _check("en-US", texts, opt_out=True)
    _check("en-US", ["take me off the late list, I paid on Tuesday", "get me off the waiting list for the card",
                     "how do I get off the paper statement list"], opt_out=False)


def test_en_threats_tied_to_more_calls_are_opt_outs_and_complaints() -> None:
    calls = ["one more call and", "if I get one more of these calls,", "call me again and", "dial my number again and",
             "keep it up with the calls and", "every call from here on out,", "if I see this number again,"]
    threats = ["I'm posting about you on every review site", "I'll put you all over twitter",
               "I'll report you to the attorney general", "I'm leaving a one star review", "I'll make a tiktok about you",
               "I'm reporting you to the OCC"]
    for text in [f"{c} {t}" for c, t in product(calls, threats)]:
        result = nlu("en-US").classify(text)
        assert result.intent == "opt_out" and "complaint" in result.also, (text, result)
    _check("en-US", ["you're one call away from a lawsuit"], opt_out=True)
    _check("en-US", ["I'll leave a review about the fee", "I'm posting about this interest rate online"], opt_out=False)


def test_en_time_words_that_are_not_time_limits() -> None:
    _check("en-US", ["i'm busy stop calling me", "i'm not interested stop calling", "stop calling me please i've asked before",
                     "i am telling you, don't call me again", "third time today, stop calling"], opt_out=True)
    _check("en-US", ["stop calling so early, call me after ten", "please don't call before 9 am",
                     "don't call me at 7 am, try after lunch"], opt_out=False)


# -- zh-CN -------------------------------------------------------------------------------------

ZH_TAILS = ["", "了", "啦", "好吗", "，谢谢"]


def test_zh_dialect_negators_and_directions() -> None:
    negs = ["别", "别再", "不要再", "嫑", "唔使再", "别价再", "甭"]
    places = ["往我这", "往我这儿", "给我们家", "往这个号上", "往我手机上", "朝我这"]
    texts = [f"{n}{p}打{t}" for n, p, t in product(negs, places, ["了", "电话了", "啦"])]
    _check("zh-CN", texts, opt_out=True)


def test_zh_formal_voice_outreach_register() -> None:
    heads = ["请停止", "请勿再", "本人拒绝", "请终止", "要求贵司终止"]
    mids = ["对本人的", "以语音方式", "向此号码", "任何形式的", ""]
    nouns = ["语音触达", "语音联络", "联络", "语音催收", "拨打电话"]
    _check("zh-CN", [f"{h}{m}{n}" for h, m, n in product(heads, mids, nouns)], opt_out=True)
    _check("zh-CN", [f"本人不{v}贵司{m}与本人{c}" for v, m, c in product(
        ["授权", "再同意", "允许"], ["继续通过此号码", "以任何语音方式"], ["联系", "联络"])], opt_out=True)


def test_zh_switching_off_phone_reminders() -> None:
    verbs = ["关闭", "取消", "关掉", "停掉", "退出"]
    objs = ["我的电话提醒", "额度变动的电话通知", "我的语音还款提醒", "本账户的电话提醒功能", "电话回访", "还款日电话提醒"]
    _check("zh-CN", [f"{p}{v}{o}" for p, v, o in product(["", "请", "帮我"], verbs, objs)], opt_out=True)
    _check("zh-CN", ["我的电话停机了", "取消那笔分期，我电话里说过", "关闭自动语音，转人工"], opt_out=False)


def test_zh_medium_fine_voice_not_is_a_voice_opt_out() -> None:
    media = ["发短信", "邮件", "微信", "站内信", "写信", "推送消息"]
    oks = ["可以", "没问题", "也行", "我不介意"]
    nos = ["打电话不行", "电话就算了", "电话不可以", "语音的别来", "电话就别来了"]
    texts = [f"{m}{o}，{n}" for m, o, n in product(media, oks, nos)]
    _check("zh-CN", texts, opt_out=True, scope="voice")


def test_zh_questions_that_ask_not_to_be_called() -> None:
    heads = ["怎么才能", "有没有办法", "能不能", "可不可以", "怎样才能"]
    bodies = ["不接到你们的电话", "以后不打这个号码", "不再给我打电话"]
    texts = [f"{h}{b}？" for h, b in product(heads, bodies)]
    texts += [f"{p}不打{e}{q}" for p, e, q in product(["", "以后"], ["了", ""], ["好不好", "行不行", "成吗", "行吗", "中不中"])]
    _check("zh-CN", texts, opt_out=True)


def test_zh_far_apart_list_removal() -> None:
    lists = ["你们那个名单里", "那个外呼列表里", "你们打电话用的那个名单上", "所有的电话名单里"]
    fills = ["，嗯，就是", "，那个，", "，不知道什么时候加上的，", ""]
    ends = ["把我删掉", "给我去掉", "把我划掉", "把我这个号码清掉"]
    texts = [f"从{ln}{f}{e}" for ln, f, e in product(lists, fills, ends)]
    _check("zh-CN", texts, opt_out=True)
    _check("zh-CN", ["从黑名单里把我移出来行吗", "帮我把旧手机号从账户里删了，换成新的"], opt_out=False)


def test_zh_homophones_of_the_key_words() -> None:
    texts = ["别再大了", "不要再给我大电话了", "以后别给我打点话了", "帮我开通面打扰", "不要再来店了", "我要推定电话提醒",
             "帮我开通免答扰", "别打电化了", "你们别再达了", "加入勿绕名单", "憋打了"]
    _check("zh-CN", texts, opt_out=True)


def test_zh_words_shared_with_opt_outs_that_are_not_opt_outs() -> None:
    texts = ["我把那个骗子号码拉黑了", "拉黑的号码怎么恢复？", "我被你们系统拉黑了，登录不了APP",
             "我之前上了黑名单，现在还能贷款吗？", "我手机开了勿扰模式，刚才没听到", "我想退订你们的纸质账单",
             "我想退订那个账户安全险", "把那笔不是我的消费删掉", "这钱不是我借的，别找我要",
             "别打给我家人，他们不知道这事，有事找我", "午休时间别打，两点以后可以", "不要自动语音了，转个人工"]
    _check("zh-CN", texts, opt_out=False)


def test_zh_threats_tied_to_more_contact() -> None:
    calls = ["要是再接到你们电话，", "你们再联系我一次，", "再来一次，", "下一个电话", "你们再这样，"]
    threats = ["我就去黑猫投诉", "我就走法律程序", "我就发抖音曝光", "我直接报给12378", "我就去金融监管总局实名举报"]
    for text in [f"{c}{t}" for c, t in product(calls, threats)]:
        result = nlu("zh-CN").classify(text)
        assert result.intent == "opt_out" and "complaint" in result.also, (text, result)


def test_en_asr_mishearings_of_the_key_words() -> None:
    texts = ["stop colleen me please", "dont col me again", "do knot call me", "seize all contact with me",
             "re move me from your lest", "im revoking con sent to be called", "add me to the dean see list",
             "i want to opt doubt of these calls", "on subscribe me from the calls", "quick calling me",
             "put me on the do not fall list", "take me off the dial or"]
    _check("en-US", texts, opt_out=True)


def test_en_idioms_for_never_and_not_doing_calls() -> None:
    heads = ["call me back when pigs fly", "you can call me when hell freezes over", "call back, which means never"]
    texts = [*heads, *[f"send it in the {m}, I don't do {n}" for m, n in product(["mail", "app"], ["phone calls", "calls"])]]
    _check("en-US", texts, opt_out=True)


def test_en_hearing_from_and_having_no_more_calls() -> None:
    heads = ["I'd rather not", "I'd like to not", "I'd just as soon not", "I would prefer to never"]
    tails = ["hear from you by phone again", "hear from you anymore", "hear from your company on the phone"]
    texts = [f"{h} {t}" for h, t in product(heads, tails)]
    texts += [f"could we {v} any more {n}" for v, n in product(["not have", "not get", "not receive"], ["calls", "phone calls", "robocalls"])]
    _check("en-US", texts, opt_out=True)
    _check("en-US", ["I haven't heard from you about the refund", "I did not hear from anyone last week"], opt_out=False)


def test_en_the_calls_named_then_stopped() -> None:
    befores = ["honestly the calls just make it worse, so please just stop them", "I get so many calls, please stop",
               "these reminder calls, I want you to stop them", "the robocalls are too much, make them stop"]
    _check("en-US", befores, opt_out=True)
    _check("en-US", ["I got your call, stop, let me find a pen", "the call dropped, wait, stop, hold on"], opt_out=False)


def test_en_formal_discontinuation_and_passive_removal() -> None:
    texts = [f"{h} {n}{t}" for h, n, t in product(["please discontinue all", "kindly cease", "I ask you to halt all"],
                                                   ["outbound contact", "phone contact", "telephone communication"],
                                                   [" with me", " to this number", " with me effective today"])]
    texts += [f"I request that all {n} with me be discontinued" for n in ["telephone communication", "phone contact", "calls"]]
    texts += [f"I'd like to be {v} future calls" for v in ["left off of", "removed from", "excluded from"]]
    texts += [f"I'd prefer it if you {v} me off your call list" for v in ["took", "take", "removed"]]
    _check("en-US", texts, opt_out=True)


def test_en_medium_fine_then_voice_refused_in_the_next_sentence() -> None:
    texts = [f"{m} {a}. {v}" for m, a, v in product(["Letters", "Emails", "Texts"], ["are okay", "are cool", "are fine"],
                                                     ["Calls aren't.", "Phone calls, no.", "The phone is not."])]
    _check("en-US", texts, opt_out=True, scope="voice")
    _check("en-US", ["Letters are okay. Calls are okay too.", "Emails are fine. Call me after five."], opt_out=False)


def test_en_asking_that_this_be_the_last_call() -> None:
    subjects = ["this", "today", "I need this to", "I'd be grateful if this", "honestly this has to"]
    links = ["is", "was", "be", "should be", "will be"]
    lasts = ["the last call", "the final call", "the last time you call me", "the very last time I hear from you"]
    texts = [f"{s} {link} {last}" for s, link, last in product(subjects, links, lasts)]
    texts += [f"{p}make {o} the {w} {n}" for p, o, w, n in product(
        ["", "please ", "can you "], ["this", "it", "today"], ["last", "final"], ["call", "time"])]
    _check("en-US", texts, opt_out=True)
    _check("en-US", ["is this the last call?", "was that the last call about the bill?", "your last call was on monday",
                     "the last time you called, my payment went through", "is this the final reminder?"], opt_out=False)


def test_en_no_more_calls_after_this_payment_is_no_time_limit() -> None:
    heads = ["I'll pay tonight, and please no more calls", "no more phone calls", "don't call me again"]
    tails = ["after that", "after this", "after today", "after this call", "after I pay"]
    _check("en-US", [f"{h} {t}" for h, t in product(heads, tails)], opt_out=True)
    _check("en-US", [f"please don't call {t}" for t in ["after 9 pm", "after that meeting", "after work", "after six"]],
           opt_out=False)


def test_en_blocking_the_number_at_their_end_and_removing_other_things() -> None:
    verbs = ["block this number", "block my number", "block me", "please block my cell number"]
    ends = ["", " on your end", " in your system", " please"]
    _check("en-US", [f"{p}{v}{e}" for p, v, e in product(["", "nah, ", "just "], verbs, ends)], opt_out=True)
    things = ["my old address", "the late fee", "my ex's name", "that charge", "my old employer"]
    _check("en-US", [f"remove {t} from {f}" for t, f in product(things, ["the file", "your records", "my account"])],
           opt_out=False)


def test_en_denying_that_one_asks_to_stop_is_no_opt_out() -> None:
    frames = ["I'm not trying to", "I'm not asking you to", "I'm not saying you should", "I am not telling you to"]
    stops = ["stop calling me", "stop you from calling"]
    tails = ["", ", I just can't pay right now", ", I only need more time"]
    _check("en-US", [f"{f} {s}{t}" for f, s, t in product(frames, stops, tails)], opt_out=False)


def test_zh_any_consequence_threatened_for_another_call() -> None:
    ifs = ["再打", "你们再打", "要是再打来", "再打电话", "下次再打过来"]
    thens = ["我就骂人了", "我就打12345", "我就找上门", "我就换号", "我就跟你们急眼", "我就把你们拉进黑名单", "我就报警"]
    _check("zh-CN", [f"{a}{b}" for a, b in product(ifs, thens)], opt_out=True)
    _check("zh-CN", ["你晚点再打就行", "明天再打吧", "下午再打我就接", "再打一遍给我听听"], opt_out=False)


def test_en_a_time_in_the_clause_before_and_is_no_limit() -> None:
    firsts = ["I'll pay online tonight", "I get paid tomorrow", "I'm off work at five"]
    seconds = ["please no more phone calls", "don't call me again", "stop calling me"]
    _check("en-US", [f"{a} {j} {b}" for a, j, b in product(firsts, ["and", "but"], seconds)], opt_out=True)


def test_zh_threats_heard_with_zai_for_zai_or_without_it() -> None:
    heads = ["你们在打", "在打", "你在给我打", "打过来", "打电话过来"]
    threats = ["我就报警", "我就投诉", "我就去银保监会告你们", "我就打12345"]
    _check("zh-CN", [f"{h}{t}" for h, t in product(heads, threats)], opt_out=True)
    _check("zh-CN", ["我在打电话，一会就投诉他们", "你们打过来我就还钱", "打过来我就接", "他在打我，我就报警了"], opt_out=False)


def test_en_mail_heard_as_male_in_a_medium_preference() -> None:
    _check("en-US", [f"{m} is fine, the phone is not" for m in ["male", "e male", "mail"]], opt_out=True)
    _check("en-US", ["I'm a male, is that fine", "the male nurse is fine"], opt_out=False)


def test_en_no_need_to_keep_calling_and_spelled_dnc() -> None:
    heads = ["there's no need to keep calling me", "no point to keep on calling", "you don't need to continue calling me"]
    tails = ["", ", I've got autopay, so you can go ahead and stop", ", I'll pay online"]
    texts = [f"{h}{t}" for h, t in product(heads, tails)]
    texts += [f"{p} the d n c list" for p in ["put me on", "i want to be on", "add my number to"]]
    texts += [f"{q} I want my number {v}" for q, v in product(["Is this a real person? Because", "Okay, well,"],
                                                              ["taken off", "taken out", "pulled"])]
    _check("en-US", texts, opt_out=True)


def test_en_other_things_stopped_or_preferred_calls_are_no_opt_out() -> None:
    _check("en-US", ["I'd rather you call than text, I never read my texts", "I prefer calls over email",
                     "can you stop the call recording", "stop the call transfer, I want to stay with you"], opt_out=False)


def test_zh_do_not_disturb_as_a_phone_mode_and_other_media_stopped() -> None:
    _check("zh-CN", ["我手机开了免打扰，所以没接到", "刚才手机调成勿扰模式了", "能不能把余额变动的短信提醒关掉，我在APP上看就行",
                     "不用不用，我自己在APP上还就行", "你们号码被标成骚扰电话了，我才没接"], opt_out=False)
    _check("zh-CN", ["帮我开通免打扰", "把我加入免打扰名单", "以后只在APP上通知我就行", "别打电话，短信通知就行"], opt_out=True)


def test_zh_calls_named_then_stopped() -> None:
    heads = ["你们是不是有病，天天打，", "电话一个接一个，", "老打电话，"]
    stops = ["给我停了", "赶紧停了吧", "马上停掉", "都给我停了"]
    _check("zh-CN", [f"{h}{s}" for h, s in product(heads, stops)], opt_out=True)
    _check("zh-CN", ["你念得太快了，给我停下", "扣款的事，赶紧停了吧"], opt_out=False)
