"""Built-in name tables for the generated organisation: characters with their pinyin.

These tables are the only source of pinyin in the emulator, so every character a generated
name can contain is listed here with one reading (polyphonic characters get the reading used
in names).
"""

from __future__ import annotations

# fmt: off

# (character(s), pinyin, relative weight). Weights follow the rough real frequency of Chinese
# surnames, so "王", "李", "张" and their syllables match dozens of members in a 300-member org.
SURNAMES: tuple[tuple[str, str, int], ...] = (
    ("王", "wang", 72), ("李", "li", 70), ("张", "zhang", 68), ("刘", "liu", 54),
    ("陈", "chen", 45), ("杨", "yang", 31), ("黄", "huang", 22), ("赵", "zhao", 20),
    ("吴", "wu", 20), ("周", "zhou", 19), ("徐", "xu", 13), ("孙", "sun", 12),
    ("马", "ma", 12), ("朱", "zhu", 11), ("胡", "hu", 11), ("郭", "guo", 10),
    ("何", "he", 9), ("高", "gao", 9), ("林", "lin", 9), ("罗", "luo", 8),
    ("郑", "zheng", 8), ("梁", "liang", 8), ("谢", "xie", 7), ("宋", "song", 6),
    ("唐", "tang", 6), ("许", "xu", 6), ("韩", "han", 6), ("冯", "feng", 6),
    ("邓", "deng", 6), ("曹", "cao", 5), ("彭", "peng", 5), ("曾", "zeng", 5),
    ("肖", "xiao", 5), ("田", "tian", 5), ("董", "dong", 5), ("袁", "yuan", 4),
    ("潘", "pan", 4), ("于", "yu", 4), ("蒋", "jiang", 4), ("蔡", "cai", 4),
    ("余", "yu", 4), ("杜", "du", 4), ("叶", "ye", 4), ("程", "cheng", 4),
    ("苏", "su", 4), ("魏", "wei", 4), ("丁", "ding", 3), ("任", "ren", 3),
    ("沈", "shen", 3),
    # "ü" is written "v" here, as most input methods and many userid schemes do.
    ("吕", "lv", 3),
    # A few compound surnames, so full-name matching has to cope with 3–4 character names.
    ("欧阳", "ouyang", 1), ("司马", "sima", 1), ("诸葛", "zhuge", 1),
)

GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀", "xiu"), ("霞", "xia"), ("平", "ping"),
    ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"), ("文", "wen"),
    ("辉", "hui"), ("玲", "ling"), ("建", "jian"), ("国", "guo"), ("红", "hong"),
    ("鹏", "peng"), ("飞", "fei"), ("宇", "yu"), ("浩", "hao"), ("欣", "xin"),
    ("婷", "ting"), ("雪", "xue"), ("琳", "lin"), ("晨", "chen"), ("阳", "yang"),
    ("思", "si"), ("雨", "yu"), ("佳", "jia"), ("子", "zi"), ("梓", "zi"),
    ("涵", "han"), ("轩", "xuan"), ("博", "bo"), ("睿", "rui"), ("嘉", "jia"),
    ("一", "yi"), ("诺", "nuo"), ("天", "tian"), ("海", "hai"), ("东", "dong"),
    ("志", "zhi"), ("云", "yun"), ("晓", "xiao"), ("春", "chun"), ("月", "yue"),
    ("三", "san"), ("四", "si"), ("旺", "wang"), ("小", "xiao"), ("萍", "ping"),
    ("鑫", "xin"), ("凯", "kai"), ("斌", "bin"), ("俊", "jun"), ("峰", "feng"),
    ("波", "bo"), ("宁", "ning"), ("丹", "dan"), ("倩", "qian"), ("慧", "hui"),
)

ENGLISH_NAMES: tuple[str, ...] = (
    "Jacky", "Tony", "Kevin", "Jason", "Eric", "David", "Michael", "Leo", "Jack", "Peter",
    "Frank", "Alex", "Andy", "Bruce", "Vincent", "Allen", "Sam", "Steven", "Ryan", "Oliver",
    "Lucy", "Lily", "Amy", "Emma", "Grace", "Cindy", "Vivian", "Cherry", "Coco", "Annie",
    "Sophia", "Helen", "Irene", "Jessica", "Nina", "Wendy", "Sunny", "Tina", "Judy", "Iris",
    "Kelly", "Joyce", "Linda", "Sandy", "Ivy", "Rose", "Mia", "Zoe", "Ella", "Bella",
)

# Department name parts: (Chinese, pinyin, English).
ROOT_DEPARTMENT = ("总公司", "zonggongsi", "Headquarters")

REGIONS: tuple[tuple[str, str, str], ...] = (
    ("华东", "huadong", "East China"), ("华南", "huanan", "South China"),
    ("华北", "huabei", "North China"), ("华中", "huazhong", "Central China"),
    ("西南", "xinan", "Southwest"), ("西北", "xibei", "Northwest"),
    ("东北", "dongbei", "Northeast"), ("北京", "beijing", "Beijing"),
    ("上海", "shanghai", "Shanghai"), ("深圳", "shenzhen", "Shenzhen"),
    ("杭州", "hangzhou", "Hangzhou"), ("成都", "chengdu", "Chengdu"),
    ("武汉", "wuhan", "Wuhan"), ("南京", "nanjing", "Nanjing"),
    ("广州", "guangzhou", "Guangzhou"),
)

FUNCTIONS: tuple[tuple[str, str, str], ...] = (
    ("研发", "yanfa", "R&D"), ("市场", "shichang", "Marketing"), ("销售", "xiaoshou", "Sales"),
    ("财务", "caiwu", "Finance"), ("人力", "renli", "HR"), ("法务", "fawu", "Legal"),
    ("运营", "yunying", "Operations"), ("产品", "chanpin", "Product"),
    ("设计", "sheji", "Design"), ("客服", "kefu", "Customer Service"),
    ("行政", "xingzheng", "Administration"), ("采购", "caigou", "Procurement"),
    ("质量", "zhiliang", "Quality"), ("测试", "ceshi", "QA"), ("数据", "shuju", "Data"),
    ("安全", "anquan", "Security"), ("前端", "qianduan", "Frontend"),
    ("后端", "houduan", "Backend"), ("算法", "suanfa", "Algorithms"),
    ("品牌", "pinpai", "Brand"), ("渠道", "qudao", "Channels"), ("物流", "wuliu", "Logistics"),
)

# Suffixes for first-level departments and for deeper ones.
TOP_SUFFIXES: tuple[tuple[str, str, str], ...] = (
    ("部", "bu", "Department"), ("中心", "zhongxin", "Center"),
    ("事业部", "shiyebu", "Division"),
)
BRANCH_SUFFIX = ("分公司", "fengongsi", "Branch")
SUB_SUFFIXES: tuple[tuple[str, str, str], ...] = (
    ("组", "zu", "Team"), ("一组", "yizu", "Team 1"), ("二组", "erzu", "Team 2"),
    ("三组", "sanzu", "Team 3"), ("部", "bu", "Department"), ("中心", "zhongxin", "Center"),
    ("办公室", "bangongshi", "Office"),
)

POSITIONS: tuple[str, ...] = (
    "工程师", "高级工程师", "经理", "总监", "专员", "主管", "助理", "设计师", "分析师", "顾问",
)

# Member profile parts: extended attributes (extattr) and what external contacts see.
EXTATTR_TEXT: tuple[str, ...] = ("工号", "工位", "职级", "入职年份")
EXTATTR_WEB: tuple[tuple[str, str], ...] = (("个人主页", "主页"), ("作品集", "作品"))
EXTERNAL_CORP_NAMES: tuple[str, ...] = ("示例科技", "示例集团", "示例云")
EXTERNAL_POSITIONS: tuple[str, ...] = ("客户经理", "产品经理", "技术顾问", "商务总监", "售后专员")
AREA_CODES: tuple[str, ...] = ("010", "020", "021", "0755", "0571", "028")
MINIPROGRAM_APPIDS: tuple[str, ...] = ("wx8bd80126147dFAKE", "wx1c2d3e4f5a6bFAKE")
# fmt: on
